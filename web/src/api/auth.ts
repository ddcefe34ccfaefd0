/** Accounts: sign up, sign in, sign out. */
import { apiRequest, session } from "./client";
import type { Registered, Session } from "./types";

/** The API's rule (check_password): 10 to 256 characters. */
export const MIN_PASSWORD_LENGTH = 10;

export async function signIn(email: string, password: string): Promise<void> {
  const result = await apiRequest<Session>("/v1/auth/login", {
    method: "POST",
    json: { email, password },
    auth: false,
  });
  session.accept(result, email.trim().toLowerCase());
}

/** Creates the account, then signs in with it. */
export async function signUp(email: string, password: string): Promise<void> {
  await apiRequest<Registered>("/v1/auth/register", {
    method: "POST",
    json: { email, password },
    auth: false,
  });
  await signIn(email, password);
}

export function signOut(): void {
  session.signOut();
}
