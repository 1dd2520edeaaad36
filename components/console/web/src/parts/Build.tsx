// A managed service's code and build: upload a ZIP archive, see the build's
// status, its validation messages and its log, followed live while WORKING.
import { useState } from 'preact/hooks';
import { ApiError, api, type Build, type LogEntry } from '../api';
import { FileField, Pending, ProblemMessage, Time, useAction, useInterval, useLoad } from '../ui';
import { LogLines } from './LogLines';

const POLL_MS = 1000;

/** The build of service `id`, or null when it has none yet. */
async function loadBuild(id: string): Promise<{ build: Build; log: LogEntry[] } | null> {
  try {
    const build = await api.build(id);
    const log = await api.buildLog(id).catch(() => [] as LogEntry[]);
    return { build, log };
  } catch (e) {
    if (e instanceof ApiError && (e.problem.status === 404 || e.problem.status === 409)) return null;
    throw e;
  }
}

const STATUS_LABEL: Record<Build['status'], string> = {
  WORKING: 'Building',
  SUCCESS: 'Build succeeded',
  FAILURE: 'Build failed',
};

export function BuildSection({ serviceId }: { serviceId: string }) {
  const state = useLoad(() => loadBuild(serviceId), [serviceId]);
  const [archive, setArchive] = useState<File | null>(null);
  const uploading = useAction();
  const working = state.data?.build.status === 'WORKING';
  useInterval(state.reload, POLL_MS, working);

  const upload = (event: Event) => {
    event.preventDefault();
    uploading.run(async () => {
      if (!archive) throw new ApiError({ status: 400, detail: 'Choose a ZIP archive first.' });
      await api.uploadSource(serviceId, archive);
      state.reload();
    });
  };

  const build = state.data?.build;
  return (
    <section aria-labelledby="build-heading">
      <h2 id="build-heading">Code and build</h2>
      <form class="inline-form" onSubmit={upload}>
        <FileField
          label="Code archive (ZIP)"
          accept=".zip,application/zip"
          onFile={setArchive}
          hint="Every upload starts a new build; executions run on the latest successful one."
        />
        <button type="submit" disabled={uploading.busy}>
          {uploading.busy ? 'Uploading…' : 'Upload code'}
        </button>
      </form>
      <ProblemMessage error={uploading.error} />
      {state.data === undefined ? (
        <Pending loaded={state} what="Loading the build" />
      ) : state.data === null || !build ? (
        <p class="empty">No code uploaded yet: upload a ZIP archive of your project to build it.</p>
      ) : (
        <div class="build">
          <p role="status" aria-live="polite">
            <span class={`badge build-${build.status.toLowerCase()}`}>{STATUS_LABEL[build.status]}</span>
            {working && <span class="spinner" aria-hidden="true" />} Started <Time iso={build.startedAt} />
            {build.endedAt && (
              <>
                , ended <Time iso={build.endedAt} />
              </>
            )}
          </p>
          <div class={`validation ${build.validationResult.state.toLowerCase()}`}>
            <h3>Validation: {build.validationResult.state.toLowerCase()}</h3>
            <p>{build.validationResult.summary}</p>
            {build.validationResult.messages.length > 0 && (
              <ul aria-label="Validation messages">
                {build.validationResult.messages.map((m, i) => (
                  <li key={i}>{m}</li>
                ))}
              </ul>
            )}
          </div>
          <h3>Build log</h3>
          <LogLines lines={state.data.log} label="Build log" empty="The build has written no log lines yet." />
        </div>
      )}
    </section>
  );
}
