// Command iconsgen draws callguard's icons and writes them into assets/icons:
// the app icon as PNGs, a Windows .ico and a macOS .icns, and the tray icon of
// each recording state (the same drawings the UI makes at run time) as PNGs
// for the installers and the docs. Run it with `make icons` after changing a
// drawing, and commit the files.
package main
