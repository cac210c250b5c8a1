/** Password length bounds for accounts (characters). */
export const MIN_PASSWORD = 8
export const MAX_PASSWORD = 1024

/** The problem with `password`, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  return password.length < MIN_PASSWORD || password.length > MAX_PASSWORD ? `password must be ${MIN_PASSWORD}-${MAX_PASSWORD} characters` : undefined
}
