import { ALL_TOPICS_ACL, EMPTY_ACL } from '@mqtt-oidc/core'
import type { Acl, BrokerTokenClaims } from '@mqtt-oidc/core'

/**
 * The ACL a verified token grants: its `acl` claim; all (non-`$`) topics for
 * a Cloudflare-style `topicAcl: "#"` without `acl`; otherwise nothing.
 * (A malformed `acl` never gets here: `verify` refuses it.)
 */
export function brokerTokenAcl(claims: BrokerTokenClaims): Acl {
  if (claims.acl) return claims.acl
  if (claims.topicAcl === '#') return ALL_TOPICS_ACL
  return EMPTY_ACL
}
