import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, must, setSession, type Me } from './api/client';

export type Scope = Me['scopes'][number];

interface Session {
  me: Me;
  email: string;
  expiresAt: number;
}

interface SessionContext {
  session: Session | null;
  /** Why the last session ended, when it was not the user's choice (expiry, a 401). */
  endedBecause: string | null;
  signIn(email: string, password: string): Promise<void>;
  signOut(reason?: string): void;
  can(scope: Scope): boolean;
}

const Context = createContext<SessionContext | null>(null);

/**
 * Signs in with POST /api/auth/login and keeps the access token in memory (api/client.ts), nowhere else.
 * The session ends when the user signs out, when the token's lifetime (expiresIn) runs out, or when the
 * API answers 401 (the token was refused: the user was disabled or deleted, or the service's key changed).
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setState] = useState<Session | null>(null);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);

  const signOut = useCallback((reason?: string) => {
    window.clearTimeout(timer.current);
    setSession(null, null);
    setState(null);
    setEndedBecause(reason ?? null);
  }, []);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const login = await must(api.POST('/api/auth/login', { body: { email, password } }));
      setSession(login.accessToken, () => signOut('The service refused your session (401). Sign in again.'));
      try {
        const me = await must(api.GET('/api/auth/me'));
        const expiresAt = Date.now() + login.expiresIn * 1000;
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(() => signOut('Your session expired. Sign in again.'), login.expiresIn * 1000);
        setEndedBecause(null);
        setState({ me, email, expiresAt });
      } catch (error) {
        setSession(null, null);
        throw error;
      }
    },
    [signOut],
  );

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const value = useMemo<SessionContext>(
    () => ({ session, endedBecause, signIn, signOut, can: (scope) => session?.me.scopes.includes(scope) ?? false }),
    [session, endedBecause, signIn, signOut],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): SessionContext {
  const value = useContext(Context);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in session; only for views shown after sign-in. */
export function useMe(): Session {
  const { session } = useSession();
  if (!session) throw new Error('not signed in');
  return session;
}
