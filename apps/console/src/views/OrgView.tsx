import { useMe } from '../session';
import { formatTime } from '../ui';

/** What the API tells a tenant principal about itself and its org (GET /api/auth/me); org settings are the operator's. */
export function OrgView() {
  const { me, email, expiresAt } = useMe();
  return (
    <>
      <dl className="facts">
        <div>
          <dt>Organization id</dt>
          <dd>
            <code>{me.orgId}</code>
          </dd>
        </div>
        <div>
          <dt>Signed in as</dt>
          <dd>{email}</dd>
        </div>
        <div>
          <dt>User id</dt>
          <dd>
            <code>{me.userId ?? '—'}</code>
          </dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>{me.role ?? me.kind}</dd>
        </div>
        <div>
          <dt>Scopes</dt>
          <dd>{me.scopes.join(', ') || 'none'}</dd>
        </div>
        <div>
          <dt>Session ends</dt>
          <dd>{formatTime(new Date(expiresAt).toISOString())}</dd>
        </div>
      </dl>
      <p className="muted">The org&apos;s name, features (such as WebRTC) and mint limit are set by the platform operator.</p>
    </>
  );
}
