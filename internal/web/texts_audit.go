package web

// auditTexts are the words of the audit log: the before and after of each change.
var auditTexts = map[string]map[string]string{
	"en": {},
	"fr": {},
}
