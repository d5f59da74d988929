import { useState, type FormEvent } from 'react';
import { api, must, type Schemas } from '../api/client';
import { credentialForms, type CredentialForm } from '../api/openapi-runtime';
import { Empty, ErrorBox, Field, formatTime, Loading, TextArea, useAction, useLoad } from '../ui';

type Stored = Schemas['CredentialView'];

export function CredentialsView() {
  const forms = useLoad(credentialForms, []);
  const stored = useLoad(() => must(api.GET('/api/credentials')), []);
  if ((forms.loading && !forms.data) || (stored.loading && !stored.data)) return <Loading what="credentials" />;
  if (forms.error || stored.error) return <ErrorBox error={forms.error ?? stored.error} />;
  if (!forms.data || forms.data.length === 0) return <Empty>The service describes no providers.</Empty>;
  return (
    <>
      <p className="muted">Secret fields are write-only: they are encrypted at rest and shown only masked. Saving replaces all of a provider&apos;s fields.</p>
      {forms.data.map((form) => (
        <ProviderCard key={form.provider} form={form} stored={stored.data?.find((item) => item.provider === form.provider)} onChanged={stored.reload} />
      ))}
    </>
  );
}

function ProviderCard({ form, stored, onChanged }: { form: CredentialForm; stored: Stored | undefined; onChanged: () => void }) {
  const shown: Record<string, unknown> = stored?.fields ?? {};
  const initial = () => Object.fromEntries(form.fields.map((field) => [field.name, field.secret ? '' : String(shown[field.name] ?? '')]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [verified, setVerified] = useState<Schemas['VerifyResultView'] | null>(null);
  const provider = form.provider;
  const save = useAction(async () => {
    const body = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
    // The body's type is one provider's; which one follows from the path, checked by the service.
    await must(api.PUT('/api/credentials/{provider}', { params: { path: { provider: provider as never } }, body: body as never }));
    setValues(Object.fromEntries(Object.entries(values).map(([name, value]) => [name, form.fields.find((field) => field.name === name)?.secret ? '' : value])));
    setVerified(null);
    onChanged();
  });
  const verify = useAction(async () => {
    setVerified(await must(api.POST('/api/credentials/{provider}/verify', { params: { path: { provider: provider as never } } })));
  });
  const remove = useAction(async () => {
    await must(api.DELETE('/api/credentials/{provider}', { params: { path: { provider: provider as never } } }));
    setValues(Object.fromEntries(form.fields.map((field) => [field.name, ''])));
    setVerified(null);
    onChanged();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  const headingId = `cred-${provider}`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{provider}</h2>
      {stored ? (
        <dl className="facts">
          {Object.entries(stored.fields).map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{String(value)}</dd>
            </div>
          ))}
          <div>
            <dt>Updated</dt>
            <dd>
              {formatTime(stored.updatedAt)} by {stored.updatedBy.kind}
            </dd>
          </div>
        </dl>
      ) : (
        <Empty>Not configured.</Empty>
      )}
      <form onSubmit={submit} className="grid-form" noValidate aria-label={`${provider} credentials`}>
        {form.fields.map((field) => {
          const props = {
            label: `${provider} ${field.name}${field.secret ? ' (secret)' : ''}${field.required ? '' : ' (optional)'}`,
            name: field.name,
            autoComplete: 'off',
            required: field.required,
            hint: field.secret && stored ? 'Write-only: enter it again to save' : field.description,
            value: values[field.name] ?? '',
            error: save.error,
          };
          return field.multiline ? (
            <TextArea key={field.name} {...props} rows={4} spellCheck={false} onChange={(event) => setValues({ ...values, [field.name]: event.target.value })} />
          ) : (
            <Field key={field.name} {...props} type={field.secret ? 'password' : 'text'} onChange={(event) => setValues({ ...values, [field.name]: event.target.value })} />
          );
        })}
        <div className="actions">
          <button type="submit" disabled={save.busy}>
            Save {provider}
          </button>
          <button type="button" className="secondary" disabled={!stored || verify.busy} onClick={() => void verify.run()}>
            Verify {provider}
          </button>
          <button
            type="button"
            className="danger"
            disabled={!stored || remove.busy}
            onClick={() => {
              if (window.confirm(`Delete the ${provider} credentials?`)) void remove.run();
            }}
          >
            Delete {provider}
          </button>
        </div>
      </form>
      <ErrorBox error={save.error ?? verify.error ?? remove.error} fields={form.fields.map((field) => field.name)} />
      {verify.busy && <p role="status">Verifying…</p>}
      {verified && (
        <p role="status" className={verified.ok ? 'ok' : 'bad'}>
          {verified.ok ? 'Verified' : 'Not verified'}: {verified.detail}
        </p>
      )}
    </section>
  );
}
