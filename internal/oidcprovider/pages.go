package oidcprovider

// pageHead opens the provider's own pages (the account chooser, device
// sign-in): one look for both, self-contained so that they render before
// the portal knows the person.
const pageHead = `<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{index .T "title"}} · Gatehouse</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1b1f24; }
main { max-width: 32rem; margin: 2rem auto; background: #fff; padding: 1.5rem; border-radius: 8px; box-shadow: 0 1px 3px #0002; }
fieldset { border: 0; padding: 0; margin: 0; }
legend, label.field { font-weight: 600; display: block; }
ul { list-style: none; padding: 0; }
li { padding: .6rem 0; border-bottom: 1px solid #e3e6ea; display: flex; gap: .6rem; align-items: baseline; }
li label { overflow-wrap: anywhere; }
input[type=text] { font: inherit; font-size: 1.3rem; letter-spacing: .1em; padding: .5rem; width: 100%; box-sizing: border-box; text-transform: uppercase; }
.hint { color: #4a535e; font-size: .9rem; display: block; }
.error { color: #a8071a; font-weight: 600; }
button { margin-top: 1rem; padding: .7rem 1.2rem; font-size: 1rem; border-radius: 4px; cursor: pointer; max-width: 100%; }
button.primary { background: #0b5cad; color: #fff; border: 0; }
button.secondary { background: #fff; color: #0b5cad; border: 1px solid #0b5cad; }
</style>
</head>
`
