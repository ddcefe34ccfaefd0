/** Accounts: sign up, sign in, sign out. */
import { api, session } from "./client";
import { dataOf } from "./result";

/** The API's rule (check_password): 10 to 256 characters. */
export const MIN_PASSWORD_LENGTH = 10;

export async function signIn(email: string, password: string): Promise<void> {
  // The refresh token goes to an HttpOnly cookie, out of reach of scripts.
  const result = await dataOf(api.POST("/v1/auth/login", { body: { email, password, refresh_cookie: true } }));
  session.accept(result, email.trim().toLowerCase());
}

/**
 * Creates the account, then signs in with it. The API answers a taken email as it does a new
 * one (it reveals no account), so the sign-in is what fails then, with the owner's password
 * unknown.
 */
export async function signUp(email: string, password: string): Promise<void> {
  await dataOf(api.POST("/v1/auth/register", { body: { email, password } }));
  await signIn(email, password);
}

/** Ends the session on the server too. */
export function signOut(): Promise<void> {
  return session.signOut();
}
