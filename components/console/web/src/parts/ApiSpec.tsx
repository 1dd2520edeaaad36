// An OpenAPI 3 document rendered for reading: its operations with their
// parameters, request bodies and responses, and its schemas.
import type { OpenApiDocument } from '../api';
import { DataTable } from '../ui';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

type Loose = Record<string, unknown>;

function asObject(value: unknown): Loose {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : {};
}

/** A schema in one line: its `$ref` name, type, or a short JSON. */
function schemaSummary(schema: unknown): string {
  const s = asObject(schema);
  if (typeof s.$ref === 'string') return s.$ref.split('/').pop() ?? s.$ref;
  if (s.type === 'array') return `array of ${schemaSummary(s.items)}`;
  if (typeof s.type === 'string') return s.format ? `${s.type} (${s.format})` : s.type;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return Object.keys(s).length ? 'object' : 'any';
}

function Schema({ schema }: { schema: unknown }) {
  const s = asObject(schema);
  if (typeof s.$ref === 'string') return <code>{schemaSummary(s)}</code>;
  return <pre class="code small">{JSON.stringify(schema, null, 2)}</pre>;
}

function Operation({ method, path, op }: { method: string; path: string; op: Loose }) {
  const parameters = Array.isArray(op.parameters) ? (op.parameters as Loose[]) : [];
  const body = asObject(asObject(op.requestBody).content);
  const responses = asObject(op.responses);
  return (
    <article class="operation">
      <h3>
        <span class={`method ${method}`}>{method.toUpperCase()}</span> <code>{path}</code>
      </h3>
      {typeof op.summary === 'string' && <p>{op.summary}</p>}
      {typeof op.description === 'string' && op.description !== op.summary && <p class="hint">{op.description}</p>}
      {parameters.length > 0 && (
        <DataTable caption="Parameters" showCaption columns={['Name', 'In', 'Type', 'Required', 'Description']}>
          <tbody>
            {parameters.map((p, i) => (
              <tr key={i}>
                <td>
                  <code>{String(p.name ?? p.$ref ?? '')}</code>
                </td>
                <td>{String(p.in ?? '')}</td>
                <td>{schemaSummary(p.schema)}</td>
                <td>{p.required ? 'yes' : 'no'}</td>
                <td>{String(p.description ?? '')}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
      {Object.keys(body).length > 0 && (
        <div>
          <h4>Request body</h4>
          {Object.entries(body).map(([media, content]) => (
            <div key={media}>
              <p>
                <code>{media}</code>
              </p>
              <Schema schema={asObject(content).schema} />
            </div>
          ))}
        </div>
      )}
      {Object.keys(responses).length > 0 && (
        <div>
          <h4>Responses</h4>
          <ul class="responses">
            {Object.entries(responses).map(([status, response]) => {
              const r = asObject(response);
              const content = asObject(r.content);
              return (
                <li key={status}>
                  <strong>{status}</strong> {String(r.description ?? '')}
                  {Object.entries(content).map(([media, c]) => (
                    <span key={media}>
                      {' '}
                      — <code>{media}</code>: {schemaSummary(asObject(c).schema)}
                    </span>
                  ))}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </article>
  );
}

/** The document `doc`, readable. */
export function ApiSpec({ doc }: { doc: OpenApiDocument }) {
  const paths = Object.entries(asObject(doc.paths));
  const schemas = Object.entries(asObject(asObject(doc.components).schemas));
  return (
    <div class="api-spec">
      <p>
        <strong>{doc.info?.title ?? 'API'}</strong> {doc.info?.version && <span class="hint">version {doc.info.version}</span>}{' '}
        <span class="hint">OpenAPI {doc.openapi}</span>
      </p>
      {doc.info?.description && <p>{doc.info.description}</p>}
      {paths.length === 0 ? (
        <p class="hint">The document lists no operations.</p>
      ) : (
        paths.flatMap(([path, item]) =>
          METHODS.filter((m) => asObject(item)[m]).map((m) => (
            <Operation key={`${m} ${path}`} method={m} path={path} op={asObject(asObject(item)[m])} />
          )),
        )
      )}
      {schemas.length > 0 && (
        <details>
          <summary>Schemas ({schemas.length})</summary>
          {schemas.map(([name, schema]) => (
            <div key={name}>
              <h4>{name}</h4>
              <pre class="code small">{JSON.stringify(schema, null, 2)}</pre>
            </div>
          ))}
        </details>
      )}
    </div>
  );
}
