"""Server config: defaults, YAML loading, unknown keys and bad types refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlgate.config import (
    DEFAULT_LISTEN,
    ServerConfig,
    config_from_mapping,
    load_config,
    with_overrides,
)
from sqlgate.errors import ConfigError
from sqlgate.review import request_limits

ROOT = Path(__file__).resolve().parent.parent


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQLGATE_POLICIES", raising=False)
    config = load_config(None)
    assert config.listen == DEFAULT_LISTEN == "127.0.0.1:50051"
    assert config.policies.dir == ROOT / "policies"
    assert config.policies.timeout_s > 0


def test_policies_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SQLGATE_POLICIES", str(tmp_path))
    assert ServerConfig().policies.dir == tmp_path


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "sqlgate.yaml"
    path.write_text(
        "listen: 127.0.0.1:6000\n"
        "policies:\n  dir: /srv/policies\n  timeout_s: 2\n"
        "limits:\n  max_files: 7\n  max_nesting: 9\n"
    )
    config = load_config(path)
    assert config.listen == "127.0.0.1:6000"
    assert config.policies.dir == Path("/srv/policies")
    assert config.policies.timeout_s == 2.0
    assert config.limits.max_files == 7
    parser_limits = request_limits(config.limits)
    assert (parser_limits.max_files, parser_limits.max_nesting) == (7, 9)


def test_empty_yaml_is_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path) == ServerConfig()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"listne": "x"}, "unknown key(s): listne"),
        ({"limits": {"max_filez": 3}}, "limits: unknown key(s): max_filez"),
        ({"limits": {"max_files": -1}}, "limits.max_files: expected a positive integer"),
        ({"limits": {"max_files": True}}, "limits.max_files: expected a positive integer"),
        ({"limits": 5}, "limits: expected a mapping"),
        ({"policies": {"timeout_s": "fast"}}, "policies.timeout_s: expected a positive number"),
        ({"listen": 50051}, "listen: expected a string"),
    ],
)
def test_bad_config_refused(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_from_mapping(raw)


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("listen: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_overrides() -> None:
    config = with_overrides(ServerConfig(), listen="127.0.0.1:0", policies_dir=Path("/p"))
    assert config.listen == "127.0.0.1:0"
    assert config.policies.dir == Path("/p")


def test_parse_workers_default_to_the_request_thread() -> None:
    # A pool loses to one core on 2-core machines (docs/config.md): opt-in only.
    assert ServerConfig().parse_workers == 1
    assert config_from_mapping({"parse_workers": 4}).parse_workers == 4
    with pytest.raises(ConfigError, match="parse_workers"):
        config_from_mapping({"parse_workers": 0})


def test_environment_overrides_the_file_and_flags_override_both(tmp_path: Path) -> None:
    from sqlgate.config import config_from_mapping, with_env, with_overrides

    base = config_from_mapping(
        {
            "listen": "127.0.0.1:50051",
            "store": "sqlite:///file.db",
            "keys": "/file/keys",
            "policies": {"engine": "opa", "opa": {"url": "http://file:8181"}},
        }
    )
    env = {
        "SQLGATE_STORE": "postgresql://sqlgate@db:5432/sqlgate",
        "SQLGATE_KEYS_DIR": "/var/run/secrets/sqlgate-keys",
        "SQLGATE_LISTEN": "0.0.0.0:50051",
        "SQLGATE_OPA_URL": "http://127.0.0.1:8181",
        "SQLGATE_METRICS_LISTEN": "0.0.0.0:9464",
        "SQLGATE_LOG_FORMAT": "json",
        "SQLGATE_POLICIES": str(tmp_path),
        "SQLGATE_UNRELATED": "x",
    }
    got = with_env(base, env)
    assert got.store == env["SQLGATE_STORE"]
    assert got.keys == Path(env["SQLGATE_KEYS_DIR"])
    assert got.listen == "0.0.0.0:50051"
    assert got.policies.opa is not None and got.policies.opa.url == "http://127.0.0.1:8181"
    assert got.policies.engine == "opa"  # the engine choice stays the file's
    assert (got.metrics_listen, got.log_format) == ("0.0.0.0:9464", "json")
    assert got.policies.dir == tmp_path
    assert with_env(base, {}) == base  # nothing set: the file as written
    assert with_overrides(got, listen="127.0.0.1:7000").listen == "127.0.0.1:7000"


def test_environment_overrides_are_validated() -> None:
    from sqlgate.config import ServerConfig, with_env

    with pytest.raises(ConfigError, match="log_format"):
        with_env(ServerConfig(), {"SQLGATE_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match=r"no policies\.opa section"):
        with_env(ServerConfig(), {"SQLGATE_OPA_URL": "http://127.0.0.1:8181"})


def test_principal_repositories() -> None:
    config = config_from_mapping(
        {"principals": {"ci": {"repositories": ["acme/app", "acme/web"]}}},
    )
    assert config.principal("ci") is not None
    assert config.principal("ci").repositories == ("acme/app", "acme/web")  # type: ignore[union-attr]
    assert config.principal("nobody") is None
    assert config.unbound_repository == "org-policy"
    assert config_from_mapping({"unbound_repository": "refuse"}).unbound_repository == "refuse"


@pytest.mark.parametrize("repo", ["acme", "/app", "acme/", "acme/app/x", " acme/app", ""])
def test_bad_repository_binding_refused(repo: str) -> None:
    with pytest.raises(
        ConfigError, match=r"principals\.ci\.repositories: expected (org/repo|a list)"
    ):
        config_from_mapping({"principals": {"ci": {"repositories": [repo]}}})


def test_unknown_unbound_repository_mode_refused() -> None:
    with pytest.raises(ConfigError, match="unbound_repository: expected org-policy or refuse"):
        config_from_mapping({"unbound_repository": "allow"})


def test_docs_full_example_loads(tmp_path: Path) -> None:
    # docs/config.md "Full example" is what operators copy: it must load as written.
    doc = (Path(__file__).resolve().parents[1] / "docs" / "config.md").read_text()
    example = doc.split("## Full example", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    (tmp_path / "config.yaml").write_text(example)
    config = load_config(tmp_path / "config.yaml")
    github_ci = config.principal("github-ci")
    assert github_ci is not None
    assert github_ci.repositories == ("acme/app",)
    assert config.unbound_repository == "org-policy"
