import { mqttIdentifierProblem } from '@mqtt-oidc/core'

/** What is wrong with an account's list of client ids (each id, and repeats); empty when nothing is. */
export function clientIdProblems(clientIds: readonly string[]): string[] {
  const problems = clientIds.map((id) => mqttIdentifierProblem('client id', id)).filter((p): p is string => p !== undefined)
  if (new Set(clientIds).size !== clientIds.length) problems.push('client ids must be unique')
  return problems
}
