// What the console remembers for this browser tab: the personal access
// token of the signed-in account and the consumer secrets of applications
// created (or entered) in this session, for Try it out. sessionStorage only:
// never localStorage, gone when the tab closes or on sign-out.

const TOKEN_KEY = 'qmarket.token';
const SECRET_PREFIX = 'qmarket.secret.';

type Listener = () => void;
const listeners = new Set<Listener>();

function read(key: string): string | null {
  try {
    return window.sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) window.sessionStorage.removeItem(key);
    else window.sessionStorage.setItem(key, value);
  } catch {
    // storage refused (private mode): the session lasts as long as the page
  }
}

/** The console's session in this tab. */
export const session = {
  /** The signed-in account's personal access token, if any. */
  token: (): string | null => read(TOKEN_KEY),
  signIn(token: string): void {
    write(TOKEN_KEY, token);
    listeners.forEach((l) => l());
  },
  /** Forgets the token and every consumer secret of this session. */
  signOut(): void {
    const keys: string[] = [];
    for (let i = 0; i < window.sessionStorage.length; i++) {
      const key = window.sessionStorage.key(i);
      if (key && key.startsWith(SECRET_PREFIX)) keys.push(key);
    }
    keys.forEach((k) => write(k, null));
    write(TOKEN_KEY, null);
    listeners.forEach((l) => l());
  },
  /** The consumer secret of application `id`, if known in this session. */
  consumerSecret: (applicationId: string): string | null => read(SECRET_PREFIX + applicationId),
  rememberConsumerSecret(applicationId: string, secret: string): void {
    write(SECRET_PREFIX + applicationId, secret);
  },
  forgetConsumerSecret(applicationId: string): void {
    write(SECRET_PREFIX + applicationId, null);
  },
  /** Calls `listener` on sign-in and sign-out; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
