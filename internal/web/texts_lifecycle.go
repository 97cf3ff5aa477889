package web

// lifecycleTexts are the words of an account's life: suspended, restored, deleted.
var lifecycleTexts = map[string]map[string]string{
	"en": {},
	"fr": {},
}
