"""veeam.agent reads the job settings where Veeam's configurator writes them.

The sample is the output XML's layout as Veeam Agent Configurator's reference shows it ("Input
and Output XML Files", trimmed). There is no PowerShell here: the script's XPath expressions are
taken from its text and run on the sample with ElementTree, so a path that selects nothing in
the documented layout (the old ``.//Destination|.//Target``) fails here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from checks.windows.script import PS_DIR

SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<ExecutionResult ExitCode='0' Version='6.1.0.349'>
  <Data>
    <JobInfo ConfigId='00000000-0000-0000-0000-000000000000' CryptType='10' JobMode='2'
             JobName='Backup Job' ObjectName='VMWIN2' PolicyJobName=''>
      <SourceInfo>
        <EpDiskFilter BackupMode='1' BackupSystemState='False' BackupUserFolders='False'/>
      </SourceInfo>
      <TargetInfo Type='3' RemoteRepositoryName='Default Backup Repository' ServerPort='10001'
                  ServerName='srv06.tech.local'>
        <ServerCredentials Password='UGFzc3dvcmQ=' UserName='c3J2MDZcQWRtaW5pc3RyYXRvcg=='/>
      </TargetInfo>
      <StorageInfo BlockSize='3' CompressionLevel='5'>
        <Encryption Enabled='True'/>
      </StorageInfo>
    </JobInfo>
  </Data>
</ExecutionResult>
"""
SCRIPT = (PS_DIR / "veeam.agent.ps1").read_text(encoding="utf-8")


def _paths(method: str) -> list[str]:
    return re.findall(rf"\.{method}\('([^']+)'\)", SCRIPT)


def test_every_path_the_script_selects_exists_in_the_documented_export() -> None:
    root = ET.fromstring(SAMPLE.encode())
    [jobs_path] = _paths("SelectNodes")
    jobs = root.findall("." + jobs_path)  # "//JobInfo" from the document's root
    assert len(jobs) == 1
    for path in _paths("SelectSingleNode"):
        assert jobs[0].find(path) is not None, path
    # each value is an attribute of the node the script reads it from
    attributes = re.findall(r"\$(\w+)\.GetAttribute\('(\w+)'\)", SCRIPT)
    nodes = {"node": jobs[0]} | {
        name: jobs[0].find(path)
        for name, path in re.findall(r"\$(\w+) = \$node\.SelectSingleNode\('([^']+)'\)", SCRIPT)
    }
    assert {a for _, a in attributes} >= {"JobName", "BackupMode", "Enabled"}
    for variable, attribute in attributes:
        assert nodes[variable].get(attribute) is not None, (variable, attribute)


def test_the_job_name_is_the_attribute_and_credentials_are_never_read() -> None:
    assert "$node.GetAttribute('JobName')" in SCRIPT
    assert "$node.Name" not in SCRIPT  # the element's own name in PowerShell: "JobInfo"
    assert all("Credentials" not in p for p in _paths("SelectNodes") + _paths("SelectSingleNode"))
    assert "-notmatch 'Password|Credential|Key|Secret|Token'" in SCRIPT
