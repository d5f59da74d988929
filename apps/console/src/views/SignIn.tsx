import { useState, type FormEvent } from 'react';
import { useSession } from '../session';
import { ErrorBox, Field, useAction } from '../ui';

export function SignIn() {
  const { signIn, endedBecause } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(() => signIn(email, password));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run();
  };
  return (
    <main id="main" className="signin">
      <h1>Sign in to Mintline</h1>
      {endedBecause && (
        <p className="notice" role="status">
          {endedBecause}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={action.error}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={action.error}
        />
        <ErrorBox error={action.error} fields={['email', 'password']} />
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
