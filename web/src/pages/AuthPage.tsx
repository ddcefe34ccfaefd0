import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router";
import { MIN_PASSWORD_LENGTH, signIn, signUp } from "../api/auth";
import { errorMessage } from "../api/errors";
import { useSession } from "../hooks/useSession";

type Mode = "sign-in" | "sign-up";

const TEXT: Record<Mode, { title: string; submit: string; pending: string; other: string; otherLink: string; otherTo: string }> = {
  "sign-in": {
    title: "Sign in",
    submit: "Sign in",
    pending: "Signing in…",
    other: "New to imgedge?",
    otherLink: "Create an account",
    otherTo: "/sign-up",
  },
  "sign-up": {
    title: "Create your account",
    submit: "Sign up",
    pending: "Creating your account…",
    other: "Already have an account?",
    otherLink: "Sign in",
    otherTo: "/sign-in",
  },
};

export function AuthPage({ mode }: { mode: Mode }) {
  const { status } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const ids = { title: useId(), email: useId(), password: useId(), hint: useId() };
  const text = TEXT[mode];

  const submit = useMutation({
    mutationFn: () => (mode === "sign-in" ? signIn(email, password) : signUp(email, password)),
    onSuccess: () => navigate(from, { replace: true }),
  });

  if (status === "signed-in" && !submit.isPending && !submit.isSuccess) return <Navigate to={from} replace />;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit.mutate();
  };

  return (
    <div className="auth">
      <form className="card auth-card" onSubmit={onSubmit} aria-labelledby={ids.title}>
        <h1 id={ids.title}>{text.title}</h1>
        <p className="muted">Upload once, then build any size or format of your images as a URL.</p>
        <div className="field">
          <label htmlFor={ids.email}>Email</label>
          <input
            id={ids.email}
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.currentTarget.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Password</label>
          <input
            id={ids.password}
            type="password"
            autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
            required
            minLength={mode === "sign-up" ? MIN_PASSWORD_LENGTH : undefined}
            aria-describedby={mode === "sign-up" ? ids.hint : undefined}
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
          />
          {mode === "sign-up" && (
            <span id={ids.hint} className="hint">
              At least {MIN_PASSWORD_LENGTH} characters.
            </span>
          )}
        </div>
        {submit.isError && (
          <p className="error" role="alert">
            {errorMessage(submit.error)}
          </p>
        )}
        <button type="submit" className="button primary wide" disabled={submit.isPending}>
          {submit.isPending ? text.pending : text.submit}
        </button>
        <p className="muted small center">
          {text.other}{" "}
          <Link to={text.otherTo} state={location.state} onClick={() => submit.reset()}>
            {text.otherLink}
          </Link>
        </p>
      </form>
    </div>
  );
}
