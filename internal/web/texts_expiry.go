package web

// expiryTexts are the words of access that ends by itself: memberships and grants until a time.
var expiryTexts = map[string]map[string]string{
	"en": {},
	"fr": {},
}
