package web

// webhookTexts are the words of an account's webhooks: subscriptions of
// its events, their deliveries, and their audit sentences.
var webhookTexts = map[string]map[string]string{
	"en": {
		"audit_webhook.created":        "subscribed a webhook to the account's events",
		"audit_webhook.deleted":        "removed a webhook",
		"audit_webhook.secret_rotated": "gave a webhook a new signing secret",
		"audit_webhook.pinged":         "sent a test event to a webhook",
		"audit_webhook.replayed":       "sent events to a webhook again",
		"audit_webhook.disabled":       "disabled a webhook that failed for a day",
		"field_url":                    "Address",
		"field_event_types":            "Event types",
		"field_delivery":               "Delivery",
		"field_range":                  "Period",
		"field_failing_since":          "Failing since",
	},
	"fr": {
		"audit_webhook.created":        "a abonné un webhook aux événements du compte",
		"audit_webhook.deleted":        "a supprimé un webhook",
		"audit_webhook.secret_rotated": "a donné un nouveau secret de signature à un webhook",
		"audit_webhook.pinged":         "a envoyé un événement de test à un webhook",
		"audit_webhook.replayed":       "a renvoyé des événements à un webhook",
		"audit_webhook.disabled":       "a désactivé un webhook en échec depuis un jour",
		"field_url":                    "Adresse",
		"field_event_types":            "Types d'événements",
		"field_delivery":               "Livraison",
		"field_range":                  "Période",
		"field_failing_since":          "En échec depuis",
	},
}
