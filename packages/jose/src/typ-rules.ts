/**
 * The `typ` rules of the token kinds this project verifies (RFC 8725 §3.11:
 * explicit typing, so one kind of JWT is never taken for another), to spread
 * into verifyJwt's options.
 */

/**
 * An ID token: `typ` absent (OpenID Connect sets none) or `JWT`. An
 * `at+jwt` access token, a `logout+jwt` logout token or a broker token signed
 * by the same issuer is not an ID token.
 */
export const ID_TOKEN_TYP = Object.freeze({ typ: Object.freeze(['JWT']), allowMissingTyp: true })

/** An RFC 9068 JWT access token: `typ` must be `at+jwt`. */
export const ACCESS_TOKEN_TYP = Object.freeze({ typ: Object.freeze(['at+jwt']), allowMissingTyp: false })
