"""What the Windows collectors and remedies write is shown in Spanish in a Spanish pack: the
findings of the lab's Windows states and of variants of them (Sophos's update stamp, a Defender
whose status cannot be read, W32Time stopped, Windows Update paused, fields the collector does
not know), and the refusals of the WinRM lockout guard and of the Windows Update fix, each
parsed, judged and planned by the real code and put through ``phrase``. A sentence a Windows
collector or remedy starts to write without an entry in the phrase table fails here."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from baluarte.lab.windows.shipped import shipped_state
from baluarte.remediation import Refused
from checks.policy.base import Required
from checks.policy.patching import SecurityUpdates
from checks.windows import parse
from deploys.windows import firewall, patching
from reports.evidence.phrases import phrase
from tests.unit.deploys.windows.test_windows_remedies import rctx, state
from tests.unit.windows._states import data, document, verdicts

Edit = Callable[[dict[str, Any]], None]
_CORE = ("Sophos Endpoint Defense Service", "Sophos File Scanner Service")


def _sophos(**over: Any) -> Edit:
    """Sophos running beside a passive Defender, ``over`` changed."""
    values: dict[str, Any] = {
        "Installed": True,
        "Services": [{"Name": n, "Status": "Running", "StartType": "Automatic"} for n in _CORE],
        "Products": [{"DisplayName": "Sophos Endpoint Agent", "DisplayVersion": "2024.3"}],
        "HealthOverall": 1,
        "HealthServices": 1,
        "HealthThreat": 1,
        "TamperProtectionEnabled": 1,
        "LastUpdateSuccess": "2026-11-28T09:00:00.0000000Z",
        "VirusDataVersion": "2026112803",
    }

    def edit(doc: dict[str, Any]) -> None:
        data(doc, "defender.status").update(AMRunningMode="Passive Mode")
        data(doc, "sophos.presence").update(values | over)

    return edit


def _set(check: str, **values: Any) -> Edit:
    return lambda doc: data(doc, check).update(values)


def _update(check: str, index: int, **values: Any) -> Edit:
    return lambda doc: data(doc, check)["Updates"][index].update(values)


def _row(check: str, index: int, **values: Any) -> Edit:
    return lambda doc: data(doc, check)[index].update(values)


def _unchanged(doc: dict[str, Any]) -> None:
    pass


# (state, its change, control, field, the text in a Spanish pack)
CASES: dict[str, tuple[str, Edit, str, str, str]] = {
    "sophos-last-update": (
        "hardened",
        _sophos(),
        "endpoint.signatures_current",
        "observed",
        "Sophos Endpoint: última actualización correcta de Sophos el 2026-11-28 09:00 UTC "
        "(datos de amenazas 2026112803), con 0.1 días de antigüedad",
    ),
    "sophos-health": (
        "hardened",
        _sophos(),
        "endpoint.realtime_protection",
        "observed",
        "Sophos Endpoint: salud de los servicios 1 (1 = buena), File Scanner Running (Automatic)",
    ),
    "sophos-no-update-recorded": (
        "hardened",
        _sophos(LastUpdateSuccess=None),
        "endpoint.signatures_current",
        "reason",
        "Sophos Endpoint: la última actualización de Sophos no consta en el registro (datos de "
        "amenazas 2026112803)",
    ),
    "defender-status-unreadable": (
        "hardened",
        _set("defender.status", StatusError="0x800106ba", ServiceStatus="Stopped"),
        "endpoint.running",
        "observed",
        "Microsoft Defender Antivirus: falló Get-MpComputerStatus: 0x800106ba; servicio "
        "WinDefend: Stopped",
    ),
    "defender-status-unreadable-installed": (
        "hardened",
        _set("defender.status", StatusError="0x800106ba", ServiceStatus=None),
        "endpoint.installed",
        "observed",
        "instalado: Microsoft Defender Antivirus (Get-MpComputerStatus disponible)",
    ),
    "defender-never-updated": (
        "hardened",
        _set(
            "defender.status",
            AntivirusSignatureLastUpdated=None,
            AntivirusSignatureAge=4294967295,
            QuickScanAge=4294967295,
        ),
        "endpoint.signatures_current",
        "observed",
        "Microsoft Defender Antivirus: firmas nunca actualizadas (AntivirusSignatureAge "
        "4294967295)",
    ),
    "defender-quick-scan": (
        "office-pc",
        _unchanged,
        "endpoint.running",
        "observed",
        "Microsoft Defender Antivirus: AMRunningMode Normal, AMServiceEnabled True, "
        "AntivirusEnabled True, último análisis rápido hace 11 días",
    ),
    "w32time-stopped": (
        "hardened",
        _set("time.sync", ServiceStatus="Stopped", StartType="Manual"),
        "logging.time_sync",
        "observed",
        "sin sincronizar: el servicio Hora de Windows (W32Time) está Stopped (tipo de inicio "
        "Manual)",
    ),
    "w32time-local-clock": (
        "office-pc",
        _unchanged,
        "logging.time_sync",
        "observed",
        "sin sincronizar: origen Local CMOS Clock (Type NTP) (w32tm, origen Local CMOS Clock, "
        "Type NTP)",
    ),
    "w32tm-sync-time-not-understood": (
        "hardened",
        _set("time.sync", LastSuccessfulSyncTime=None, LastSuccessfulSyncText="28.11.2026 9:14"),
        "logging.time_sync",
        "observed",
        "w32tm, origen time.windows.com,0x9, Type NTP, última sincronización correcta el "
        "2026-11-14 07:02 UTC (hace 341.0 h) (no se entendió la hora de la última "
        "sincronización de w32tm, '28.11.2026 9:14'; se usó el evento de Time-Service); última "
        "sincronización correcta hace 341.0 h > 192 h",
    ),
    "w32tm-unknown-source": (
        "hardened",
        _set("time.sync", Source="Reloj raro"),
        "logging.time_sync",
        "reason",
        "time.sync: el origen de w32tm 'Reloj raro' no es un servidor de hora ni un nombre de "
        "reloj que Baluarte conozca (en inglés o en español)",
    ),
    "windows-update-paused": (
        "hardened",
        _set(
            "wu.policy",
            PauseQualityUpdatesEndTime="2026-12-05T10:00:00Z",
            PolicyPauseFeatureUpdatesStartTime="2026-11-20",
            ServiceManagerError="0x80070005",
        ),
        "patching.automatic_updates",
        "observed",
        "Windows Update está en pausa: actualizaciones de calidad en pausa en Configuración "
        "hasta el 2026-12-05 10:00 UTC (PauseQualityUpdatesEndTime) (directiva de Windows "
        "Update: Windows Update for Business (DeferQualityUpdatesPeriodInDays 0, "
        "TargetReleaseVersionInfo 24H2); AUOptions 4 (descargar e instalar automáticamente "
        "según una programación); actualizaciones de características en pausa por una "
        "directiva desde el 2026-11-20 (las actualizaciones de seguridad se siguen "
        "instalando); el administrador de servicios de Windows Update no respondió: "
        "0x80070005)",
    ),
    "windows-update-pause-not-a-date": (
        "hardened",
        _set("wu.policy", PauseUpdatesExpiryTime="soon"),
        "patching.automatic_updates",
        "reason",
        "wu.policy: PauseUpdatesExpiryTime 'soon' no es una fecha con su zona horaria",
    ),
    "update-id-not-a-guid": (
        "hardened",
        _update("updates.pending", 0, UpdateID="KB2267602"),
        "patching.updates_pending",
        "reason",
        "updates.pending Updates[0]: UpdateID 'KB2267602' no es un GUID",
    ),
    "rdp-unreadable": (
        "hardened",
        _set("rdp.nla", RdpEnabled=None),
        "access.insecure_admin_protocols",
        "reason",
        "rdp.nla: no se pudo leer fDenyTSConnections, así que no se sabe si RDP está activado",
    ),
    "firewall-enum-unknown": (
        "hardened",
        _row("firewall.profiles", 0, Enabled=7),
        "firewall.enabled",
        "reason",
        "firewall.profiles[0]: el campo 'Enabled' es 7, y se esperaba uno de {0: 'False', 1: "
        "'True', 2: 'NotConfigured'}",
    ),
    # a "text (value): text" that is not a firewall rule's: the guard's frame leaves it alone
    "reboot-pending": (
        "office-pc",
        _unchanged,
        "patching.reboot_required",
        "observed",
        "reinicio pendiente desde el 2026-11-18 (10.1 días): Component Based Servicing "
        "RebootPending; PendingFileRenameOperations; fecha tomada de Setup event 4",
    ),
    "firewall-profile-open": (
        "office-pc",
        _unchanged,
        "firewall.allowed_inbound",
        "observed",
        "5 reglas de entrada más allá de la política: todos los puertos abiertos: todos los "
        "puertos desde cualquier origen (perfil Private del Firewall de Windows: entrada por "
        "defecto Allow) | todos los puertos abiertos: todos los puertos desde cualquier origen "
        "(perfil Public del Firewall de Windows: desactivado) | "
        "tcp/3389 no está en la política: tcp/3389 desde cualquier origen (regla "
        "RemoteDesktop-UserMode-In-TCP del Firewall de Windows, perfiles Any: Remote Desktop - "
        "User Mode (TCP-In), programa %SystemRoot%\\system32\\svchost.exe) | tcp/445 no está en "
        "la política: tcp/445 desde cualquier origen (regla FPS-SMB-In-TCP del Firewall de "
        "Windows, perfiles Private, Public: File and Printer Sharing (SMB-In), programa System) "
        "| tcp/5985 no está en la política: tcp/5985 desde 192.168.1.0/24, fe80::/64 (regla "
        "WINRM-HTTP-In-TCP del Firewall de Windows, perfiles Domain, Private: Windows Remote "
        "Management (HTTP-In), programa System)",
    ),
}

# Our words in these texts, none of which a Spanish pack may still show.
ENGLISH = (
    "not recorded",
    "threat data",
    "last successful",
    "health services",
    "failed:",
    "WinDefend service",
    "available",
    "never updated",
    "quick scan",
    "Time service",
    "start type",
    "source ",
    "not understood",
    "paused",
    "still install",
    "did not answer",
    "is not a GUID",
    "not a date",
    "could not be read",
    "expected one of",
    "Firewall profile",
    "by default",
    "pending since",
)


def _outcomes(name: str, edit: Edit) -> dict[str, Any]:
    doc = document(name)
    edit(doc)
    return verdicts(doc)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_windows_finding_in_spanish(case: str) -> None:
    name, edit, control, field, spanish = CASES[case]
    stored = getattr(_outcomes(name, edit)[control], field) or ""
    assert phrase(stored, "es") == spanish, stored
    assert phrase(stored, "en") == stored


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_english_left_in_any_finding_of_a_windows_variant(case: str) -> None:
    name, edit, _, _, _ = CASES[case]
    for control, outcome in _outcomes(name, edit).items():
        for field in ("expected", "observed", "reason"):
            shown = phrase(getattr(outcome, field) or "", "es")
            left = [e for e in ENGLISH if e in shown]
            assert not left, (control, field, left, shown)


def _office_pc_refusal() -> Refused:
    ctx = rctx(state())  # office-pc's WinRM rule: Domain and Private only, from LocalSubnet
    result = firewall.default_inbound_deny(ctx.collected.facts["firewall"], Required(), ctx)
    assert isinstance(result, Refused), result
    return result


def test_the_winrm_lockout_guard_refusal_in_spanish() -> None:
    refused = _office_pc_refusal()
    assert phrase(refused.summary, "es") == (
        "activar el Firewall de Windows Defender y bloquear la entrada por defecto (Private, "
        "Public)"
    )
    assert phrase(refused.reason, "es") == (
        "nada demuestra que WinRM (TCP 5985) desde 192.168.1.50 pueda entrar: Private: ninguna "
        "regla demuestra que WinRM pueda entrar (reglas para el puerto: Windows Remote "
        "Management (HTTP-In) (WINRM-HTTP-In-TCP): la dirección remota LocalSubnet no demuestra "
        "que incluya 192.168.1.50); Public: ninguna regla demuestra que WinRM pueda entrar "
        "(reglas para el puerto: Windows Remote Management (HTTP-In) (WINRM-HTTP-In-TCP): "
        "perfiles Domain, Private; la dirección remota LocalSubnet no demuestra que incluya "
        "192.168.1.50). Activar el cortafuegos con la entrada en Block dejaría a Baluarte sin "
        "acceso. Añada antes una regla así (p. ej., New-NetFirewallRule -Direction Inbound "
        "-Protocol TCP -LocalPort 5985 -RemoteAddress <dirección de Baluarte> -Program System "
        "-Action Allow -Profile Any)."
    )
    assert phrase(refused.reason, "en") == refused.reason


def test_every_reason_the_guard_gives_for_a_rule_in_spanish() -> None:
    teams = r"C:\Users\ana\AppData\Local\Microsoft\Teams\current\Teams.exe"
    rule = {
        "Name": "Teams-In",
        "DisplayName": "Teams",
        "Enabled": "True",
        "Direction": "Inbound",
        "Action": "Allow",
        "Profile": "Private",
        "Source": "Local",
        "Protocol": "TCP",
        "LocalPort": ["5985"],
        "RemoteAddress": ["Intranet"],
        "LocalAddress": ["10.0.0.1"],
        "Program": teams,
        "Package": "S-1-15-2-1",
        "Service": "wuauserv",
        "InterfaceType": "Wireless",
        "InterfaceAlias": ["Wi-Fi"],
        "Authentication": "Required",
    }
    rules = copy.deepcopy(shipped_state("office-pc")["output"]["checks"]["firewall.rules"])
    ctx = rctx(state(rules=[*rules["data"]["Rules"], rule]))
    refused = firewall.enabled(ctx.collected.facts["firewall"], Required(), ctx)
    assert isinstance(refused, Refused), refused
    shown = phrase(refused.reason, "es")
    assert (
        f"Teams (Teams-In): programa {teams} (WinRM es System); servicio wuauserv; paquete de "
        "aplicación S-1-15-2-1; la dirección remota Intranet no demuestra que incluya "
        "192.168.1.50; dirección local 10.0.0.1; tipo de interfaz Wireless; interfaces Wi-Fi; "
        "autenticación IPsec Required"
    ) in shown, shown
    assert "Public: ninguna regla demuestra" in shown, shown


def test_the_windows_update_refusal_in_spanish() -> None:
    doc = copy.deepcopy(shipped_state("office-pc")["output"])
    del doc["checks"]["updates.pending"]["data"]["Updates"][1]["UpdateID"]  # an older document
    ctx = rctx(parse.collected(doc))
    refused = patching.security_updates_pending(
        ctx.collected.facts["patching"], SecurityUpdates(max=0), ctx
    )
    assert isinstance(refused, Refused), refused
    assert phrase(refused.summary, "es") == (
        "instalar las actualizaciones de seguridad pendientes con Windows Update"
    )
    assert phrase(refused.reason, "es") == (
        "actualizaciones pendientes sin ID de Windows Update en la respuesta de la comprobación: "
        "1 (2026-11 Cumulative Update for .NET Framework 3.5 and 4.8.1 for Windows 11, version "
        "24H2 for x64 (KB5070012)): la corrección elige las actualizaciones por su ID, nunca por "
        "su título (los títulos dependen del idioma de cada usuario); vuelva a comprobar el "
        "equipo con esta versión de Baluarte y después aplique la corrección"
    )
