package web

// operatorTexts are the words of the pages of operators and integrator administrators: identity providers, check tokens, operators.
var operatorTexts = map[string]map[string]string{
	"en": {},
	"fr": {},
}
