// Package assets embeds what callguard ships with: the default organisation
// policy, example policies that follow real organisations' documents, and the
// application and tray icons. It only exposes bytes; it never decides.
package assets
