package web

// memberTexts are the words of a member's page and the lists of users and invitations.
var memberTexts = map[string]map[string]string{
	"en": {},
	"fr": {},
}
