import { useEffect, useRef, type MouseEvent, type ReactNode } from 'react';
import { navigate, usePath } from './router';
import { SessionProvider, useSession, type Scope } from './session';
import { SignIn } from './views/SignIn';
import { UsersView } from './views/UsersView';
import { CredentialsView } from './views/CredentialsView';
import { ApiKeysView } from './views/ApiKeysView';
import { EndpointsView } from './views/EndpointsView';
import { PoliciesView } from './views/PoliciesView';
import { OrgView } from './views/OrgView';
import { MintLogView } from './views/MintLogView';
import { ActivityView } from './views/ActivityView';
import { EventsView } from './views/EventsView';
import { ChainView } from './views/ChainView';

interface ViewEntry {
  path: string;
  title: string;
  /** Shown when the caller holds any of these scopes (none: everyone). */
  scopes: Scope[];
  render: () => ReactNode;
  group: 'Administration' | 'Audit' | 'Account';
}

export const VIEWS: ViewEntry[] = [
  { path: '/users', title: 'Users', scopes: ['MANAGE_USERS'], render: () => <UsersView />, group: 'Administration' },
  { path: '/credentials', title: 'Credentials', scopes: ['MANAGE_CREDENTIALS'], render: () => <CredentialsView />, group: 'Administration' },
  { path: '/api-keys', title: 'API keys', scopes: ['MANAGE_API_KEYS'], render: () => <ApiKeysView />, group: 'Administration' },
  { path: '/endpoints', title: 'Endpoints', scopes: ['MANAGE_ENDPOINTS'], render: () => <EndpointsView />, group: 'Administration' },
  { path: '/policies', title: 'Token policies', scopes: ['MANAGE_CREDENTIALS', 'READ_AUDIT'], render: () => <PoliciesView />, group: 'Administration' },
  { path: '/audit/mints', title: 'Mint log', scopes: ['READ_AUDIT'], render: () => <MintLogView />, group: 'Audit' },
  { path: '/audit/activity', title: 'Activity', scopes: ['READ_AUDIT'], render: () => <ActivityView />, group: 'Audit' },
  { path: '/audit/events', title: 'Configuration events', scopes: ['READ_AUDIT'], render: () => <EventsView />, group: 'Audit' },
  { path: '/audit/chain', title: 'Chain verification', scopes: ['READ_AUDIT'], render: () => <ChainView />, group: 'Audit' },
  { path: '/org', title: 'Organization', scopes: [], render: () => <OrgView />, group: 'Account' },
];

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}

export function Link({ to, children, current }: { to: string; children: ReactNode; current?: boolean }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={`/console${to}`} onClick={follow} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

function Shell() {
  const { session, signOut, can } = useSession();
  const path = usePath();
  const heading = useRef<HTMLHeadingElement>(null);
  const visible = VIEWS.filter((view) => view.scopes.length === 0 || view.scopes.some(can));
  const view = visible.find((item) => path === item.path || path.startsWith(`${item.path}/`));

  useEffect(() => {
    if (session && !view && visible[0]) navigate(visible[0].path, true);
  }, [session, view, visible]);

  // A new view takes the focus to its heading, so screen readers announce it and Tab starts there.
  useEffect(() => {
    if (view) document.title = `${view.title} · Mintline console`;
    heading.current?.focus();
  }, [view]);

  if (!session) return <SignIn />;
  const groups = ['Administration', 'Audit', 'Account'] as const;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Mintline console</span>
        <span className="who">
          {session.email} · {session.me.role ?? session.me.kind}
        </span>
        <button type="button" className="secondary" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <div className="layout">
        <nav aria-label="Views">
          {groups.map((group) => {
            const items = visible.filter((item) => item.group === group);
            if (items.length === 0) return null;
            return (
              <div key={group}>
                <h2 className="nav-group">{group}</h2>
                <ul>
                  {items.map((item) => (
                    <li key={item.path}>
                      <Link to={item.path} current={item === view}>
                        {item.title}
                      </Link>
                    </li>
                  ))}
                </ul>
              </div>
            );
          })}
        </nav>
        <main id="main" tabIndex={-1}>
          {view ? (
            <>
              <h1 ref={heading} tabIndex={-1}>
                {view.title}
              </h1>
              {view.render()}
            </>
          ) : (
            <p role="status">Nothing to show.</p>
          )}
        </main>
      </div>
    </>
  );
}
