package assets

import _ "embed"

//go:embed icons/callguard.png
var appIcon []byte

// AppIcon returns callguard's app icon, a 512×512 PNG, for the window and the
// about box (fyne.NewStaticResource("callguard.png", assets.AppIcon())). The
// installers take theirs from assets/icons, written by packaging/iconsgen.
func AppIcon() []byte { return append([]byte(nil), appIcon...) }
