package app

import "runtime/debug"

// version is set at link time: -ldflags "-X github.com/gatehouse/gatehouse/internal/app.version=v1.2.3".
var version = ""

// Version is the release version, or the VCS revision the binary was built
// from, or "dev".
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			return info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}
