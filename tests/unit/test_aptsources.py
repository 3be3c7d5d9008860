"""The Debian mirror comes from apt's sources as the machine configures them."""

from pathlib import Path

import pytest

from harness.aptsources import debian_mirror, parse_deb822, parse_one_line, read_sources
from harness.errors import InvalidInput
from harness.settings import LabSettings

DEBIAN_SOURCES = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def etc_with(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_one_line_entries_with_options_and_comments():
    text = (
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://deb.debian.org/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://m.example/debian/"
        " bookworm main contrib  # trailing comment\n"
        "deb\thttps://other.example/debian bookworm-updates main\n"
    )
    sources = parse_one_line(text, "sources.list")
    assert [(s.uri, s.suites, s.components) for s in sources] == [
        ("http://m.example/debian/", ("bookworm",), ("main", "contrib")),
        ("https://other.example/debian", ("bookworm-updates",), ("main",)),
    ]
    assert sources[0].origin == "sources.list:3"


def test_deb822_paragraphs_with_several_uris_and_an_inline_key():
    text = (
        "Types: deb deb-src\n"
        "URIs: http://a.example/debian http://b.example/debian\n"
        "Suites: bookworm\n"
        "Components: main\n"
        "Signed-By:\n"
        " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
        " .\n"
        " -----END PGP PUBLIC KEY BLOCK-----\n"
        "\n"
        "Types: deb-src\n"
        "URIs: http://src-only.example/debian\n"
        "Suites: bookworm\n"
        "Components: main\n"
        "\n"
        "Enabled: no\n"
        "Types: deb\n"
        "URIs: http://disabled.example/debian\n"
        "Suites: bookworm\n"
        "Components: main\n"
    )
    assert [s.uri for s in parse_deb822(text, "x.sources")] == [
        "http://a.example/debian",
        "http://b.example/debian",
    ]


def test_field_names_are_case_insensitive():
    text = "types: deb\nuris: http://a.example/debian\nsuites: bookworm\ncomponents: main\n"
    assert [s.uri for s in parse_deb822(text, "x.sources")] == ["http://a.example/debian"]


def test_this_machines_layout_gives_the_debian_archive_not_security(tmp_path):
    etc = etc_with(
        tmp_path,
        {
            "sources.list.d/debian.sources": DEBIAN_SOURCES,
            "sources.list.d/google-cloud-sdk.list": (
                "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"
            ),
            "sources.list.d/nodesource.sources": (
                "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\n"
                "Suites: nodistro\nComponents: main\n"
            ),
        },
    )
    assert debian_mirror("bookworm", etc) == "http://deb.debian.org/debian"


def test_security_suite_is_skipped_even_when_listed_first(tmp_path):
    etc = etc_with(
        tmp_path,
        {
            "sources.list": (
                "deb http://security.debian.org/debian-security bookworm-security main\n"
                "deb http://mirror.example/debian/ bookworm main\n"
            )
        },
    )
    assert debian_mirror("bookworm", etc) == "http://mirror.example/debian"


def test_sources_list_comes_before_the_parts_directory(tmp_path):
    etc = etc_with(
        tmp_path,
        {
            "sources.list": "deb http://first.example/debian bookworm main\n",
            "sources.list.d/a.list": "deb http://second.example/debian bookworm main\n",
        },
    )
    assert debian_mirror("bookworm", etc) == "http://first.example/debian"


def test_the_release_suite_wins_over_its_updates(tmp_path):
    etc = etc_with(
        tmp_path,
        {
            "sources.list.d/a.list": "deb http://updates.example/debian bookworm-updates main\n",
            "sources.list.d/b.list": "deb http://release.example/debian bookworm main\n",
        },
    )
    assert debian_mirror("bookworm", etc) == "http://release.example/debian"


def test_updates_of_the_same_archive_serve_when_the_release_is_not_listed(tmp_path):
    etc = etc_with(
        tmp_path, {"sources.list": "deb http://m.example/debian bookworm-updates main\n"}
    )
    assert debian_mirror("bookworm", etc) == "http://m.example/debian"


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("deb http://m.example/debian bookworm contrib", id="without_main"),
        pytest.param("deb http://m.example/debian trixie main", id="other_release"),
        pytest.param("deb cdrom:[Debian 12]/ bookworm main", id="a_method_debootstrap_lacks"),
        pytest.param("deb-src http://m.example/debian bookworm main", id="sources_only"),
    ],
)
def test_an_entry_debootstrap_cannot_use_is_not_chosen(tmp_path, line):
    etc = etc_with(tmp_path, {"sources.list": line + "\n"})
    with pytest.raises(InvalidInput):
        debian_mirror("bookworm", etc)


def test_only_a_security_archive_is_a_clear_error(tmp_path):
    etc = etc_with(
        tmp_path,
        {"sources.list": "deb http://security.debian.org/debian-security bookworm-security main\n"},
    )
    with pytest.raises(InvalidInput) as err:
        debian_mirror("bookworm", etc)
    message = str(err.value)
    assert "debian-security bookworm-security [main]" in message
    assert "HARNESS_DEBIAN_MIRROR" in message


def test_no_sources_at_all_says_where_it_looked_and_how_to_set_one(tmp_path):
    with pytest.raises(InvalidInput) as err:
        debian_mirror("bookworm", tmp_path)
    message = str(err.value)
    assert str(tmp_path / "sources.list") in message
    assert str(tmp_path / "sources.list.d") in message
    assert "*.sources" in message
    assert "bookworm" in message
    assert "HARNESS_DEBIAN_MIRROR" in message
    assert "no sources files" in message


def test_files_apt_ignores_are_not_read(tmp_path):
    etc = etc_with(
        tmp_path,
        {
            "sources.list.d/old.list.save": "deb http://stale.example/debian bookworm main\n",
            "sources.list.d/x.list.disabled": "deb http://off.example/debian bookworm main\n",
        },
    )
    sources, read = read_sources(etc)
    assert (sources, read) == ([], [])


def test_the_environment_override_is_kept_verbatim(monkeypatch):
    monkeypatch.setenv("HARNESS_DEBIAN_MIRROR", "http://local.example/debian/")
    assert LabSettings().debian_mirror == "http://local.example/debian/"


def test_without_the_override_settings_leave_the_mirror_to_apt(monkeypatch):
    monkeypatch.delenv("HARNESS_DEBIAN_MIRROR", raising=False)
    assert LabSettings().debian_mirror == ""
