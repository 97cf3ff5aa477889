package signin

// The contexts the secrets of sign-in are sealed under (see
// internal/secretbox): each binds a sealed secret to its owner, so that it
// cannot be moved to another row. `gatehouse keys reseal` seals them again
// under the same contexts.

// TOTPContext is the context of a user's authenticator key, enrolled or
// being enrolled.
func TOTPContext(userID string) string { return "totp:" + userID }

// ProviderSecretContext is the context of an identity provider's client
// secret.
func ProviderSecretContext(providerID string) string { return "idp:" + providerID }

// LoginVerifierContext is the context of the PKCE verifier of a trip to a
// provider.
func LoginVerifierContext(providerID string) string { return "oidc-verifier:" + providerID }

// LoginNonceContext is the context of the nonce of a trip to a provider.
func LoginNonceContext(providerID string) string { return "oidc-nonce:" + providerID }
