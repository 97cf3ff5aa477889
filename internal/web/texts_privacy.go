package web

// privacyTexts are the words of the client's privacy: the service provider's access to cameras and media.
var privacyTexts = map[string]map[string]string{
	"en": {},
	"fr": {},
}
