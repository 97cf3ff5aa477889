package web

// PageTexts are the portal's words by language, for the browser tests that
// look for English left on French pages.
var PageTexts = pageTexts
