package web

// scimTexts are the words of an account's SCIM provisioning: its tokens,
// the mapping of its directory's groups, the log of its directory's calls,
// and their audit sentences.
var scimTexts = map[string]map[string]string{
	"en": {
		"audit_scim_token.created":   "made a SCIM token for the account's directory",
		"audit_scim_token.revoked":   "revoked a SCIM token",
		"audit_scim_mapping.created": "mapped a directory group",
		"audit_scim_mapping.deleted": "removed the mapping of a directory group",
		"audit_user.suspended":       "suspended a user",
		"audit_user.restored":        "restored a suspended user",
		"scim_actor":                 "Directory (SCIM)",
	},
	"fr": {
		"audit_scim_token.created":   "a créé un jeton SCIM pour l'annuaire du compte",
		"audit_scim_token.revoked":   "a révoqué un jeton SCIM",
		"audit_scim_mapping.created": "a associé un groupe de l'annuaire",
		"audit_scim_mapping.deleted": "a retiré l'association d'un groupe de l'annuaire",
		"audit_user.suspended":       "a suspendu un utilisateur",
		"audit_user.restored":        "a rétabli un utilisateur suspendu",
		"scim_actor":                 "Annuaire (SCIM)",
	},
}
