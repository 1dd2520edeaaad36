// Create a service (external or managed) or edit one: every field of the
// contract, the OpenAPI document as a JSON or YAML file, and for a managed
// service its code as a ZIP archive.
import { useEffect, useState } from 'preact/hooks';
import { api, type Resources, type Runtime, type Service, type ServiceInput, type ServiceType } from '../api';
import { Link, navigate } from '../router';
import {
  FileField,
  fieldError,
  PageHeading,
  Pending,
  ProblemMessage,
  SelectField,
  TextField,
  useAction,
  useLoad,
  usePageTitle,
} from '../ui';

/** What an OpenAPI file holds: a JSON document, or YAML text the platform parses. */
export async function readApiSpecification(file: File): Promise<unknown> {
  const text = await file.text();
  if (file.name.toLowerCase().endsWith('.json') || text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // not JSON after all: send it as text and let the platform say why
    }
  }
  return text;
}

/** The resource fields of a managed service: field, label, least value. */
const RESOURCE_FIELDS: { key: keyof Resources; label: string; min: string }[] = [
  { key: 'milliCpus', label: 'CPU (millicores)', min: '0' },
  { key: 'memoryInMegabytes', label: 'Memory (MB)', min: '0' },
  { key: 'timeoutSeconds', label: 'Timeout (seconds)', min: '1' },
];

const RUNTIMES: { value: Runtime; label: string }[] = [
  { value: 'PYTHON_TEMPLATE', label: 'Python template' },
  { value: 'WASM', label: 'WebAssembly (WASI 0.2 command)' },
  { value: 'DOCKER', label: 'Docker' },
];

export function ServiceFormPage({ id }: { id?: string }) {
  const editing = id !== undefined;
  usePageTitle(editing ? 'Edit service' : 'Create service');
  const backends = useLoad(() => api.quantumBackends(), []);
  const existing = useLoad<Service | null>(() => (id ? api.service(id) : Promise.resolve(null)), [id]);

  const [type, setType] = useState<ServiceType>('EXTERNAL');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [backend, setBackend] = useState('NONE');
  const [url, setUrl] = useState('');
  const [auth, setAuth] = useState<'NONE' | 'BASIC'>('NONE');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [runtime, setRuntime] = useState<Runtime>('PYTHON_TEMPLATE');
  // As typed: numbers once sent.
  const [resources, setResources] = useState<Record<keyof Resources, string>>({
    milliCpus: '1000',
    memoryInMegabytes: '2048',
    timeoutSeconds: '3600',
  });
  const [specFile, setSpecFile] = useState<File | null>(null);
  const [archive, setArchive] = useState<File | null>(null);
  const saving = useAction();
  const error = saving.error;
  // The service whose values the fields hold: the form shows once they do, so
  // nothing typed before the effect below runs is overwritten by it.
  const [filledFrom, setFilledFrom] = useState<Service | null>(null);

  useEffect(() => {
    const s = existing.data;
    if (!s) return;
    setType(s.type);
    setName(s.name);
    setDescription(s.description ?? '');
    setBackend(s.quantumBackend);
    setUrl(s.url ?? '');
    setAuth(s.securityConfiguration.type);
    setUsername(s.securityConfiguration.username ?? '');
    if (s.runtime) setRuntime(s.runtime);
    const r = s.resources;
    if (r) {
      setResources({
        milliCpus: String(r.milliCpus),
        memoryInMegabytes: String(r.memoryInMegabytes),
        timeoutSeconds: String(r.timeoutSeconds),
      });
    }
    setFilledFrom(s);
  }, [existing.data]);

  if (editing && (!existing.data || filledFrom !== existing.data)) return <Pending loaded={existing} what="Loading the service" />;

  const submit = (event: Event) => {
    event.preventDefault();
    saving.run(async () => {
      const input: ServiceInput = {
        name: name.trim(),
        description: description.trim() || null,
        quantumBackend: backend,
      };
      if (!editing) input.type = type;
      if (type === 'EXTERNAL') {
        input.url = url.trim();
        input.securityConfiguration =
          auth === 'BASIC'
            ? { type: 'BASIC', username: username.trim(), ...(password ? { password } : {}) }
            : { type: 'NONE' };
      } else {
        input.runtime = runtime;
        input.resources = {
          milliCpus: Number(resources.milliCpus),
          memoryInMegabytes: Number(resources.memoryInMegabytes),
          timeoutSeconds: Number(resources.timeoutSeconds),
        };
      }
      if (specFile) input.apiSpecification = await readApiSpecification(specFile);
      const service = editing ? await api.updateService(id, input) : await api.createService(input);
      if (type === 'MANAGED' && archive) await api.uploadSource(service.id, archive);
      navigate(`/services/${service.id}`);
    });
  };

  return (
    <section class="narrow">
      <PageHeading>{editing ? `Edit ${existing.data?.name ?? 'service'}` : 'Create service'}</PageHeading>
      <form onSubmit={submit} noValidate>
        {!editing && (
          <fieldset class="choices">
            <legend>Service type</legend>
            <label>
              <input type="radio" name="type" checked={type === 'EXTERNAL'} onChange={() => setType('EXTERNAL')} />
              External service <span class="hint">— runs on your own servers; the gateway forwards calls to it</span>
            </label>
            <label>
              <input type="radio" name="type" checked={type === 'MANAGED'} onChange={() => setType('MANAGED')} />
              Managed service <span class="hint">— you upload code, the platform builds and runs it</span>
            </label>
          </fieldset>
        )}
        <TextField label="Name" value={name} onValue={setName} required error={fieldError(error, 'name')} />
        <TextField
          label="Description"
          value={description}
          onValue={setDescription}
          multiline
          rows={3}
          error={fieldError(error, 'description')}
        />
        {backends.data ? (
          <SelectField
            label="Quantum backend"
            value={backend}
            onValue={setBackend}
            options={backends.data.items.map((b) => ({ value: b.id, label: b.name }))}
            error={fieldError(error, 'quantumBackend')}
          />
        ) : (
          <Pending loaded={backends} what="Loading quantum backends" />
        )}
        {type === 'EXTERNAL' ? (
          <fieldset>
            <legend>Where your service runs</legend>
            <TextField
              label="URL"
              type="url"
              value={url}
              onValue={setUrl}
              required
              placeholder="https://quantum.example.com/api"
              hint="An absolute http or https address; the gateway forwards each call's path below it."
              error={fieldError(error, 'url')}
            />
            <SelectField
              label="Authentication"
              value={auth}
              onValue={(v) => setAuth(v as 'NONE' | 'BASIC')}
              options={[
                { value: 'NONE', label: 'None' },
                { value: 'BASIC', label: 'HTTP Basic' },
              ]}
              hint="Credentials the gateway adds to every call it forwards."
              error={fieldError(error, 'securityConfiguration.type')}
            />
            {auth === 'BASIC' && (
              <>
                <TextField
                  label="Username"
                  value={username}
                  onValue={setUsername}
                  autoComplete="off"
                  error={fieldError(error, 'securityConfiguration.username')}
                />
                <TextField
                  label="Password"
                  type="password"
                  value={password}
                  onValue={setPassword}
                  autoComplete="new-password"
                  hint={editing ? 'Leave empty to keep the stored password.' : 'Stored encrypted; never shown again.'}
                  error={fieldError(error, 'securityConfiguration.password')}
                />
              </>
            )}
          </fieldset>
        ) : (
          <fieldset>
            <legend>Runtime and resources</legend>
            <SelectField
              label="Runtime"
              value={runtime}
              onValue={(v) => setRuntime(v as Runtime)}
              options={RUNTIMES}
              error={fieldError(error, 'runtime')}
            />
            <div class="row">
              {RESOURCE_FIELDS.map((f) => (
                <TextField
                  key={f.key}
                  label={f.label}
                  type="number"
                  min={f.min}
                  value={resources[f.key]}
                  onValue={(v) => setResources({ ...resources, [f.key]: v })}
                  error={fieldError(error, `resources.${f.key}`)}
                />
              ))}
            </div>
            {!editing && (
              <FileField
                label="Code archive (ZIP)"
                accept=".zip,application/zip"
                onFile={setArchive}
                hint={
                  <>
                    Zip the project's contents, not its folder: from inside it, <code>zip -r planqk.zip src requirements.txt</code>
                    . You can also upload it later on the service's page.
                  </>
                }
              />
            )}
          </fieldset>
        )}
        <FileField
          label="API specification (OpenAPI, JSON or YAML)"
          accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml"
          onFile={setSpecFile}
          hint={editing ? 'Choose a file to replace the current document.' : 'Optional: a default document is used without one.'}
          error={fieldError(error, 'apiSpecification')}
        />
        <ProblemMessage error={error} />
        <div class="actions">
          <button type="submit" disabled={saving.busy}>
            {saving.busy ? 'Saving…' : editing ? 'Save changes' : 'Create service'}
          </button>
          <Link href={editing ? `/services/${id}` : '/services'} class="button secondary">
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
