// Package packaging holds what turns callguard into installers IT can deploy
// (the MSI for Windows, the DMG for macOS, a .deb and a tarball for Linux):
// the scripts the Makefile runs and the tests that build each artefact with
// the real tools (wixl, msiinfo, osslsigncode, dpkg-deb, the fyne CLI) and
// check what is inside. It has no code the app links.
package packaging
