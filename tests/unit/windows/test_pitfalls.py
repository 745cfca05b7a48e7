"""L0: Windows PowerShell 5.1 pitfalls, found on the syntax tree of every shipped script.

Each guard is shown catching its bad forms and leaving the safe ones alone; then every check
script, fix script and the assembled check script must have no finding but the allowlisted ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.windows.document import CHECKS
from checks.windows.script import ASSEMBLED, check_script
from checks.windows.script import PS_DIR as CHECK_DIR
from deploys.windows.fixes import PS_DIR as FIX_DIR
from tests.unit.windows._pitfalls import (
    GUARDS,
    Allowed,
    Finding,
    array_type_data,
    assembled_origins,
    convertfrom_json,
    datetime_parse,
    int_cast_counter,
    localised_regex,
    principal_name,
    scan,
    unguarded_call,
)

CHECK = "checks/windows/ps/x.ps1"
FIX = "deploys/windows/ps/x.ps1"

# Uses judged safe, each with its reason. The needle is a piece of the flagged line.
ALLOWED: tuple[Allowed, ...] = (
    Allowed(
        "updates-install.ps1",
        "convertfrom-json",
        "Get-Content -LiteralPath $resultFile -Raw | ConvertFrom-Json",
        "reads the result file the script's own task wrote with ConvertTo-Json of one object "
        "(never an array), not an input; arrays are properties, which 5.1 reads as arrays",
    ),
    Allowed(
        "_footer.ps1",
        "array-type-data",
        "ConvertTo-Json -Compress -Depth 10",
        "the footer runs only assembled after _envelope.ps1, which removes the type data first",
    ),
)


def where(findings: list[Finding]) -> list[tuple[int, int, str]]:
    return [(f.line, f.column, f.guard) for f in findings]


# -- 1. ConvertFrom-Json ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        "$wanted = @(ConvertFrom-Json '[1,2]')",
        "$wanted = @($text | ConvertFrom-Json)",
        "foreach ($x in @(Get-Content -Raw $p | ConvertFrom-Json)) { $x }",
        "$o = [pscustomobject]@{ Ids = @(ConvertFrom-Json -InputObject $json) }",
    ],
)
def test_convertfrom_json_wrapped_in_an_array_subexpression(snippet: str) -> None:
    found = convertfrom_json(snippet, FIX)
    assert len(found) == 1 and found[0].guard == "convertfrom-json"
    assert "ONE object" in found[0].message and "@(...)" in found[0].message
    assert found[0].text.startswith("ConvertFrom-Json")


def test_convertfrom_json_piped_on_and_plain_uses_are_flagged_with_their_own_message() -> None:
    piped = convertfrom_json("$ids = $json | ConvertFrom-Json | ForEach-Object { $_.id }", FIX)
    assert where(piped) == [(1, 16, "convertfrom-json")]
    assert "next command gets the whole array once" in piped[0].message
    plain = convertfrom_json("param([string]$Json)\n$o = ConvertFrom-Json $Json", FIX)
    assert where(plain) == [(2, 6, "convertfrom-json")]
    assert "typed PSRP parameters" in plain[0].message


def test_convertfrom_json_leaves_other_json_and_arrays_alone() -> None:
    good = "param([string[]]$Ids)\n$x = @($Ids)\n$j = $x | ConvertTo-Json -Compress\n"
    assert convertfrom_json(good, FIX) == []


def test_a_here_string_script_is_scanned_at_its_place_in_the_file() -> None:
    source = "param($A)\n$inner = @'\n$ok = 1\n$w = @(ConvertFrom-Json '__W__')\n'@\n"
    assert where(convertfrom_json(source, FIX)) == [(4, 8, "convertfrom-json")]
    # an expandable here-string is text with variables in it, not a script
    assert convertfrom_json('$t = @"\n@(ConvertFrom-Json $x)\n"@\n', FIX) == []


# -- 2. [int] of unsigned counters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "column"),
    [
        ("$a = [int]$status.QuickScanAge", 6),
        ("$a = [int]$status.AntivirusSignatureAge", 6),
        ("$a = [Int32]($status.FullScanAge)", 6),
        ("@{ Age = [int]$s.NISSignatureAge }", 10),
        ("$a = [int]$s.SomethingElseAge", 6),
        ("$a = [int]$disk.FreeSpace", 6),
        ("$a = $status.QuickScanAge -as [int]", 6),
    ],
)
def test_int_casts_of_uint32_counters(snippet: str, column: int) -> None:
    found = int_cast_counter(snippet, CHECK)
    assert where(found) == [(1, column, "int-cast-counter")]
    assert "[int64]" in found[0].message


@pytest.mark.parametrize(
    "snippet",
    [
        "$a = [int64]$status.QuickScanAge",
        "$a = [long]$status.AntivirusSignatureAge",
        "$a = [int]$os.ProductType",
        "$a = [int]$status.Message",  # ends in 'age', is not an age
        "$a = [int]$Matches[1]",
        "$a = [int]$items.Count",
        "$a = [int]$watch.ElapsedMilliseconds",
    ],
)
def test_int_casts_of_small_or_signed_values_pass(snippet: str) -> None:
    assert int_cast_counter(snippet, CHECK) == []


# -- 3. dates parsed from text ----------------------------------------------------------------

W32TM = "$status = @(& w32tm.exe /query /status)\nforeach ($line in $status) {\n"


@pytest.mark.parametrize(
    ("snippet", "line", "column"),
    [
        ("$d = [datetime]::Parse($value)", 1, 6),
        ("$d = [datetime]::Parse($value, [cultureinfo]::CurrentCulture)", 1, 6),
        ("$ok = [DateTime]::TryParse($value, [ref]$d)", 1, 7),
        ("$d = [System.DateTime]::ParseExact($v, 'dd/MM/yyyy', $null)", 1, 6),
        (
            "$d = [datetime]::ParseExact($v, 'd', [Globalization.CultureInfo]::CurrentCulture)",
            1,
            6,
        ),
        # text from a native program, followed through a loop and -split
        (W32TM + "  $label, $value = $line -split ':', 2\n  $t = [datetime]$value\n}", 4, 8),
        (W32TM + "  $t = ConvertTo-IsoDate $line\n}", 3, 8),
        (W32TM + "  $t = Get-Date -Date $line\n}", 3, 8),
        (W32TM + "  $t = $line -as [datetime]\n}", 3, 8),
        ("$t = & w32tm /query /status | ForEach-Object { [datetime]$_ }", 1, 48),
        ("$text = Get-Content -Path $f\n$t = [datetime]$text", 2, 6),
        ("if ($s -match '(\\d+)') { $t = [datetime]$Matches[1] }", 1, 31),
    ],
)
def test_dates_parsed_with_the_current_culture_or_from_text(
    snippet: str, line: int, column: int
) -> None:
    found = datetime_parse(snippet, CHECK)
    assert where(found) == [(line, column, "datetime-parse")]
    assert "InvariantCulture" in found[0].message


@pytest.mark.parametrize(
    "snippet",
    [
        # the envelope's helper: its argument is a DateTime from CIM or COM
        "function ConvertTo-IsoDate {\n param($Date)\n $d = [datetime]$Date\n}",
        "$os = Get-CimInstance Win32_OperatingSystem\n$b = ConvertTo-IsoDate $os.LastBootUpTime",
        "$s = Get-MpComputerStatus\n$u = ([datetime]$s.AntivirusSignatureLastUpdated).ToString('o')",
        "$d = [datetime]::ParseExact($v, 'yyyy-MM-dd', [Globalization.CultureInfo]::InvariantCulture)",
        "$d = [datetime]::Parse($v, [cultureinfo]::InvariantCulture)",
        "$ok = [datetime]::TryParseExact($t, $f, $culture, $styles, [ref]$p)",
        # a function that turns the text into a DateTime: its output is no longer text
        W32TM + "  $t = ConvertTo-IsoDate (ConvertFrom-W32tmDate -Text $line)\n}",
        W32TM + "  $t = ConvertTo-IsoDate ([datetime]::ParseExact($line, 'o', $inv))\n}",
        "$n = [datetime]::UtcNow\n$later = (Get-Date).AddSeconds(5)",
    ],
)
def test_datetime_values_and_explicit_cultures_pass(snippet: str) -> None:
    assert datetime_parse(snippet, CHECK) == []


# -- 4. regexes over localised output ---------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "line", "column"),
    [
        (W32TM + "  if ($line -match '^Phase Offset:\\s*(.+)s') { $o = $Matches[1] }\n}", 3, 20),
        (
            W32TM + "  $label, $value = $line -split ':\\s*', 2\n  $x = $label -eq 'Source'\n}",
            4,
            19,
        ),
        ("$src = (& w32tm /query /source).Trim()\n$local = $src -like '*Local CMOS Clock*'", 2, 21),
        ("$p = netsh advfirewall show allprofiles\n$on = $p -match 'State\\s+ON'", 2, 17),
        (
            "$c = $null\n$c = & $exe\n$exe = 'C:\\x\\manage-bde.exe'\n$c -replace 'Percentage', ''",
            4,
            13,
        ),
        ("$t = wevtutil qe System\n$m = [regex]::Match($t, 'Event ID')", 2, 25),
        ("& netsh wlan show interfaces | Select-String -Pattern 'SSID'", 1, 55),
        ("& w32tm /query /status | ForEach-Object { if ($_ -match 'Stratum') { $_ } }", 1, 57),
    ],
)
def test_words_matched_against_native_output(snippet: str, line: int, column: int) -> None:
    found = localised_regex(snippet, CHECK)
    assert where(found) == [(line, column, "localised-regex")]
    assert "host's language" in found[0].message


@pytest.mark.parametrize(
    "snippet",
    [
        # no word in the pattern: a fixed shape, not a label
        W32TM + "  $label, $value = $line -split ':\\s*', 2\n}",
        "$o = & w32tm /stripchart /computer:x /samples:1 /dataonly\n$v = $o -match '[-+]\\d+\\.\\d+s$'",
        # words, but matched against a cmdlet's properties or a registry value
        "$svc = Get-Service -DisplayName 'Sophos*' | Where-Object { $_.Status -eq 'Running' }",
        "$x = Get-ItemProperty -Path $k\nif ($x.DisplayName -like 'Veeam Agent*') { 1 }",
        # secedit writes an export file; only its exit code is read from the program
        "$null = & secedit.exe /export /cfg $f\n$lines = Get-Content $f\n"
        "$s = $lines -match 'System Access'",
        # a Boolean made from the output is no longer the output
        "$ok = (& w32tm /resync) -match '\\d'\nif ($ok -eq 'True') { 1 }",
    ],
)
def test_words_against_locale_independent_values_pass(snippet: str) -> None:
    assert localised_regex(snippet, CHECK) == []


# -- 5. principals by English name ------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "column", "sid"),
    [
        (
            "New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\\SYSTEM' -LogonType S4U",
            36,
            "S-1-5-18",
        ),
        ('$p = New-ScheduledTaskPrincipal -UserId "SYSTEM"', 41, "S-1-5-18"),
        ("Get-LocalGroupMember -Group 'Administrators'", 29, "S-1-5-32-544"),
        ("Get-LocalGroupMember -Group 'Administradores', 'Administrators'", 48, "S-1-5-32-544"),
        ("Get-LocalGroup -Name 'Users'", 22, "S-1-5-32-545"),
        (
            "$m = $members | Where-Object { $_.Name -eq 'BUILTIN\\Administrators' }",
            44,
            "S-1-5-32-544",
        ),
        ("$acl = icacls $p /grant 'Everyone:(R)'", 25, "S-1-1-0"),
        ("& net localgroup Administrators $u /add", 18, "S-1-5-32-544"),
        ("$g = [ADSI]'WinNT://./Administrators,group'", 12, "S-1-5-32-544"),
        ("$a = [Security.Principal.NTAccount]'Guests'", 36, "S-1-5-32-546"),
        ("$a = New-Object System.Security.Principal.NTAccount('Users')", 53, "S-1-5-32-545"),
        ("$rule = @{ Identity = 'x' }; $who = 'Everyone'", 37, "S-1-1-0"),
    ],
)
def test_principals_by_english_name(snippet: str, column: int, sid: str) -> None:
    found = principal_name(snippet, CHECK)
    assert where(found) == [(1, column, "principal-name")]
    assert sid in found[0].message


@pytest.mark.parametrize(
    "snippet",
    [
        "Get-LocalGroupMember -SID 'S-1-5-32-544'",
        "New-ScheduledTaskPrincipal -UserId 'S-1-5-18' -LogonType ServiceAccount",
        # the same words as log names, registry keys, folders and product names
        "Get-WinEvent -FilterHashtable @{ LogName = 'System'; Id = 19 }",
        "$k = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control'",
        "$p = Join-Path $env:SystemDrive 'Users'",
        "$program = 'System'",
        "Get-Service -Name 'Sophos Endpoint Defense Service'",
    ],
)
def test_principals_by_sid_and_lookalike_words_pass(snippet: str) -> None:
    assert principal_name(snippet, CHECK) == []


# -- 6. calls that fail on healthy hosts, outside a try ---------------------------------------


@pytest.mark.parametrize(
    ("snippet", "line", "column"),
    [
        ("$status = Get-MpComputerStatus", 1, 11),
        ("$p = Get-MpPreference -ErrorAction Stop", 1, 6),
        ("$s = Get-Service -Name WinDefend", 1, 6),
        ("$e = @(Get-WinEvent -FilterHashtable @{ LogName = 'Setup'; Id = 4 })", 1, 8),
        ("try { $a = 1 } finally { $b = Get-MpPreference }", 1, 31),
        ("try { $s = Get-Service -Name X } finally { }", 1, 12),  # try/finally does not catch
        ("try { $x = 1 } catch { $s = Get-Service -Name X }", 1, 29),
        ("$m = New-Object -ComObject Microsoft.Update.ServiceManager", 1, 6),
        ("try { $m = New-Object -ComObject X.Y } catch { }\n$n = $m.QueryHistory(0, 5)", 2, 6),
        ("try { $s = New-Object -ComObject X.Y } catch { }\n$r = $s.Searcher().Search('x')", 2, 6),
    ],
)
def test_fragile_calls_outside_a_try_in_check_scripts(snippet: str, line: int, column: int) -> None:
    found = unguarded_call(snippet, CHECK)
    assert (line, column, "unguarded-call") in where(found)
    assert all(f.guard == "unguarded-call" and "try/catch" in f.message for f in found)
    # fix scripts: a failure there fails the fix, which is what it should do
    assert unguarded_call(snippet, FIX) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "try { $status = Get-MpComputerStatus } catch { $statusError = $_.Exception.Message }",
        "$s = Get-Service -Name W32Time -ErrorAction SilentlyContinue",
        "$s = Get-Service -Name W32Time -EA Ignore",
        "try {\n  foreach ($f in $filters) { $e += @(Get-WinEvent -FilterHashtable $f) }\n} catch { }",
        "try {\n  $m = New-Object -ComObject X.Y\n  foreach ($s in $m.Services) { $s.Name }\n"
        "} catch { $err = $_.Exception.Message }\n$n = ([string]$m.Name).ToLowerInvariant()",
        "$p = Get-ItemProperty -Path $k\n$c = Get-CimInstance -ClassName Win32_OperatingSystem",
    ],
)
def test_fragile_calls_caught_or_tolerated_pass(snippet: str) -> None:
    assert unguarded_call(snippet, CHECK) == []


# -- the shipped scripts ----------------------------------------------------------------------


def shipped() -> dict[str, str]:
    scripts = {f"checks/windows/ps/{p.name}": p.read_text("utf-8") for p in CHECK_DIR.glob("*.ps1")}
    scripts |= {f"deploys/windows/ps/{p.name}": p.read_text("utf-8") for p in FIX_DIR.glob("*.ps1")}
    scripts[ASSEMBLED] = check_script()
    return dict(sorted(scripts.items()))


SHIPPED = shipped()


@pytest.mark.parametrize("file", list(SHIPPED))
def test_shipped_scripts_have_no_pitfall_but_the_allowlisted(file: str) -> None:
    findings = [f for f in scan(SHIPPED[file], file) if not any(a.covers(f) for a in ALLOWED)]
    assert not findings, "\n" + "\n".join(str(f) for f in findings)


def test_every_allowlist_entry_is_used_and_says_why() -> None:
    findings = [f for file, text in SHIPPED.items() for f in scan(text, file)]
    for allowed in ALLOWED:
        assert allowed.guard in GUARDS and len(allowed.reason) > 40
        assert any(allowed.covers(f) for f in findings), f"stale allowlist entry: {allowed}"


def test_assembled_lines_are_allowlisted_as_the_script_they_come_from() -> None:
    script = check_script()
    origins = assembled_origins(script)
    lines = script.splitlines()
    assert len(origins) == len(lines)
    assert origins[1] == "_envelope.ps1" and origins[-1] == "_footer.ps1"
    for check_id in CHECKS:
        body = (CHECK_DIR / f"{check_id}.ps1").read_text("utf-8").splitlines()
        mine = [
            line for line, origin in zip(lines, origins, strict=True) if origin == f"{check_id}.ps1"
        ]
        assert [line.removeprefix("    ") for line in mine[1:-1]] == body
    # an injected pitfall in one check is found there, and allowlisted only as that check
    header = "Get-CheckResult 'updates.pending' {\n"
    assert header in script
    injected = script.replace(header, header + "    $s = Get-MpPreference\n", 1)
    found = [
        f for f in unguarded_call(injected, ASSEMBLED) if not any(a.covers(f) for a in ALLOWED)
    ]
    assert [(f.origin, f.text) for f in found] == [("updates.pending.ps1", "Get-MpPreference")]


def test_the_old_pitfalls_put_back_into_shipped_scripts_are_caught() -> None:
    name = "checks/windows/ps/defender.status.ps1"
    defender = SHIPPED[name] + "\n$q = [int]$status.QuickScanAge\n"
    last = len(defender.splitlines())
    assert (last, 6, "int-cast-counter") in where(scan(defender, name))
    name = "deploys/windows/ps/updates-install.ps1"
    head, here, tail = SHIPPED[name].partition("$inner = @'\n")
    assert here, "the update task's script is no longer a here-string"
    fix = head + here + "$wanted = @(ConvertFrom-Json '[1]')\n" + tail
    line = len((head + here).splitlines()) + 1
    found = convertfrom_json(fix, name)
    assert (line, 13, "convertfrom-json") in where(found)


def test_a_finding_reads_as_file_line_column_guard_and_fix() -> None:
    found = scan("$a = 1\n$b = [int]$s.QuickScanAge\n", "deploys/windows/ps/x.ps1")
    assert str(found[0]).startswith("deploys/windows/ps/x.ps1:2:6: [int-cast-counter] ")
    assert Path(found[0].file).name == found[0].origin == "x.ps1"


# -- 7. arrays written with System.Array's type data loaded ------------------------------------


def test_convertto_json_before_the_array_type_data_is_removed_is_caught() -> None:
    bad = "$r = [ordered]@{ ids = @($a) }\n[pscustomobject]$r | ConvertTo-Json -Compress\n"
    assert where(array_type_data(bad, FIX)) == [(2, 22, "array-type-data")]
    good = "Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue\n"
    assert array_type_data(good + bad, FIX) == []
    # removed too late: the first write already went out wrapped
    assert len(array_type_data(bad + good + bad, FIX)) == 1
    # a here-string run as a script of its own (a scheduled task) removes it for itself
    task = good + "$inner = @'\n" + bad + "'@\n"
    assert where(array_type_data(task, FIX)) == [(4, 22, "array-type-data")]
    assert array_type_data(good + "$inner = @'\n" + good + bad + "'@\n", FIX) == []


def test_every_fix_script_removes_the_array_type_data_before_it_answers() -> None:
    line = "Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue\n"
    fixes = [name for name in SHIPPED if name.startswith("deploys/")]
    assert fixes
    for name in fixes:
        assert array_type_data(SHIPPED[name], name) == [], name
        assert array_type_data(SHIPPED[name].replace(line, ""), name), name  # caught without
