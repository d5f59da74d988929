import { useState } from 'react';
import { api, must, type Schemas } from '../api/client';
import { ErrorBox, Loading, useAction, useLoad } from '../ui';

export function ChainView() {
  const [result, setResult] = useState<Schemas['ChainVerificationView'] | null>(null);
  const keys = useLoad(() => must(api.GET('/api/audit/public-keys')), []);
  const verify = useAction(async () => setResult(await must(api.GET('/api/audit/verify'))));
  return (
    <>
      <p className="muted">
        Every mint entry of your org is hash-chained; the service signs the chain&apos;s head with Ed25519 after each batch. Verifying walks the whole chain and checks every
        checkpoint&apos;s signature.
      </p>
      <button type="button" onClick={() => void verify.run()} disabled={verify.busy}>
        Verify the chain
      </button>
      {verify.busy && <Loading what="the verification" />}
      <ErrorBox error={verify.error} />
      {result && (
        <section aria-labelledby="verification" className={`panel ${result.ok ? 'ok' : 'bad'}`}>
          <h2 id="verification">{result.ok ? 'The chain verifies' : 'The chain is broken'}</h2>
          <dl className="facts">
            <div>
              <dt>Entries checked</dt>
              <dd>{result.checked}</dd>
            </div>
            <div>
              <dt>Signed checkpoints</dt>
              <dd>{result.checkpoints}</dd>
            </div>
            <div>
              <dt>Signed through seq</dt>
              <dd>{result.signedThroughSeq ?? 'none yet'}</dd>
            </div>
            <div>
              <dt>Unsigned tail</dt>
              <dd>{result.unsignedTail}</dd>
            </div>
            <div>
              <dt>First broken entry</dt>
              <dd>{result.firstBrokenId ?? '—'}</dd>
            </div>
            <div>
              <dt>Detail</dt>
              <dd>{result.detail}</dd>
            </div>
          </dl>
        </section>
      )}
      <section aria-labelledby="public-keys">
        <h2 id="public-keys">Signing keys</h2>
        {keys.loading && <Loading what="the signing keys" />}
        <ErrorBox error={keys.error} />
        {keys.data && (
          <ul className="plain">
            {keys.data.map((key) => (
              <li key={key.keyId}>
                <code>{key.keyId}</code> {key.algorithm} <code className="wrap">{key.publicKey}</code>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
