export { describeError } from '@mqtt-oidc/core/errors'
