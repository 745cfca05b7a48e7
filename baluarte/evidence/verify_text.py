"""VERIFY.txt: how an inspector checks a pack with standard tools, in the pack's language."""

from __future__ import annotations

from baluarte.evidence.data import Lang

__all__ = ["OPENSSL", "RUN_OPENSSL", "SHA256SUM", "verify_txt"]

SHA256SUM = "sha256sum -c MANIFEST.sha256"
OPENSSL = (
    "openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in MANIFEST.sha256"
    " -sigfile MANIFEST.sha256.sig"
)
# one run's record, signed when the run finished (NNN: the run, as chain.json names its files)
RUN_OPENSSL = (
    "openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in runs/NNN.json"
    " -sigfile runs/NNN.json.sig"
)

_ES = """\
Cómo verificar este paquete de evidencias
=========================================

Desde esta carpeta (descomprimida), solo con herramientas estándar:

1. Ningún fichero ha cambiado (cada línea debe decir «La suma coincide» u «OK»):

   {sha256sum}

2. El manifiesto lo firmó el proveedor (debe decir «Signature Verified Successfully»):

   {openssl}

   Compruebe antes que signing-key.pub.pem es la clave que el proveedor publicó. Su huella:

   {fingerprint}

   (openssl pkey -pubin -in signing-key.pub.pem -outform DER | sha256sum da la misma cifra.)

3. Cada ejecución la firmó el proveedor al terminar (si chain.json le da "signature"):

   {run_openssl}

   y "sha256sum runs/NNN.json" da su "record_sha256" de chain.json. docs/evidence.md explica
   cómo comprobar cada campo de runs/NNN.parts.json con sha256sum (y openssl, cuando el
   fichero da la sal de la ejecución).

4. La cadena de ejecuciones está completa (ninguna ejecución borrada ni editada) y, de paso,
   los pasos 1 a 3 con la clave publicada por el proveedor:

   baluarte evidence verify {pack} --key CLAVE-PUBLICADA-DEL-PROVEEDOR.pub.pem

findings.csv: texto UTF-8 con marca de orden de bytes (BOM), celdas separadas por punto y
coma (;), como lo espera Excel configurado en español: se abre con doble clic, con los
acentos intactos. En otra hoja de cálculo, impórtelo como UTF-8 con separador «;».
"""

_EN = """\
How to verify this evidence pack
================================

From this (unzipped) folder, with standard tools only:

1. No file has changed (every line must say "OK"):

   {sha256sum}

2. The provider signed the manifest (must say "Signature Verified Successfully"):

   {openssl}

   First check that signing-key.pub.pem is the key the provider published. Its fingerprint:

   {fingerprint}

   (openssl pkey -pubin -in signing-key.pub.pem -outform DER | sha256sum gives the same digits.)

3. The provider signed each run when it finished (when chain.json gives it a "signature"):

   {run_openssl}

   and "sha256sum runs/NNN.json" gives its "record_sha256" in chain.json. docs/evidence.md
   shows how to check each field of runs/NNN.parts.json with sha256sum (and openssl, when the
   file gives the run's salt).

4. The chain of runs is complete (no run deleted or edited), and steps 1 to 3 again against
   the key the provider published:

   baluarte evidence verify {pack} --key PROVIDER-PUBLISHED-KEY.pub.pem

findings.csv: UTF-8 text with a byte order mark (BOM), cells separated by commas (,), as
Excel set up in English expects: it opens with a double click, accents intact. In another
spreadsheet, import it as UTF-8 with "," as the separator.
"""


def verify_txt(lang: Lang, fingerprint: str, pack: str) -> str:
    template = _ES if lang == "es" else _EN
    return template.format(
        sha256sum=SHA256SUM,
        openssl=OPENSSL,
        run_openssl=RUN_OPENSSL,
        fingerprint=fingerprint,
        pack=pack,
    )
