# host: identity and clock of the target, so ages can be computed from its own records.
host_uname() { uname -srvm; }
host_osrel() { cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; }
host_clock() { date +%s; date +%z; }
field host hostname hostname
field host uname host_uname
field host os_release host_osrel
field host clock host_clock
field host uid id -u
