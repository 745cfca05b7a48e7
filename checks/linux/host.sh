# host: identity and clock of the target, so ages can be computed from its own records.
host_uname() { uname -srvm; }
host_osrel() { cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; }
host_clock() { date +%s; date +%z; }
printf '"host":{'
field hostname hostname; printf ','
field uname host_uname; printf ','
field os_release host_osrel; printf ','
field clock host_clock; printf ','
field uid id -u
printf '}'
