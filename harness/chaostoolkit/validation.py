"""The checks of one experiment document, field by field (harness.experiments' face).

Every field a user can write: the experiment's title, description, version, tags,
contributions, configuration, secrets, extensions and runtime; the steady-state
hypothesis; each activity's type, name, provider (module, function, arguments against
the function's signature and its annotations, secrets), tolerance
(harness.chaostoolkit.tolerances), pauses, background and timeout; references; and the
method's shape: the phases of one implemented mechanism's run, in order, with a rollback
that ends it. Each check raises InvalidInput at the first problem: the file, the JSON
path of the field, what was expected, what was found.
"""

from __future__ import annotations

import inspect
import math
import string
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.chaostoolkit import actions, probes
from harness.chaostoolkit.experiment import ACTIONS, PHASES, PROBES
from harness.chaostoolkit.tolerances import check_tolerance, json_kind
from harness.errors import InvalidInput
from harness.mechanisms.registry import MECHANISMS
from harness.mechanisms.template import MechanismTemplate, implemented

__all__ = ["MODULES", "check_document"]

MODULES: dict[str, types.ModuleType] = {ACTIONS: actions, PROBES: probes}
TOP_FIELDS = (
    "version",
    "title",
    "description",
    "tags",
    "contributions",
    "configuration",
    "secrets",
    "extensions",
    "runtime",
    "steady-state-hypothesis",
    "method",
    "rollbacks",
)
ACTIVITY_FIELDS = ("type", "name", "provider", "tolerance", "pauses", "background", "timeout")
PROVIDER_FIELDS = ("type", "module", "func", "arguments", "secrets")
ENV_TYPES: dict[str | None, type] = {
    None: str,
    "str": str,
    "string": str,
    "int": int,
    "integer": int,
    "float": float,
    "number": float,
    "bool": bool,
    "bytes": bytes,
}
"""What chaoslib makes of an environment value, by its env_var_type (convert_to_type)."""
_NO_CONTROLS = (
    "no controls: the harness's activities hold their own safeguards, and a control"
    " would run code this validation cannot check"
)


@dataclass(frozen=True)
class _FromEnvironment:
    """An argument whose value chaoslib reads from the environment when the run starts."""

    kind: type
    key: str


class _Experiment:
    """The checks of one document; each raises InvalidInput at the first problem."""

    def __init__(self, source: str, doc: dict[str, Any]) -> None:
        self.source, self.doc = source, doc
        self.configuration: dict[str, Any] = {}
        self.secrets: dict[str, dict[str, Any]] = {}
        self.names: dict[str, dict[str, Any]] = {}

    def bad(self, where: str, expected: str, got: Any) -> InvalidInput:
        return InvalidInput(self.source, where, expected, got)

    def get(
        self,
        obj: dict[str, Any],
        key: str,
        where: str,
        kind: type,
        required: bool,
        nonempty: bool = True,
    ) -> Any:
        """obj[key], of kind (and, a string or a list, not empty); None when absent and optional."""
        path = f"{where}{key}"
        if key not in obj:
            if required:
                raise self.bad(path, _article(kind), "missing")
            return None
        value = obj[key]
        if not isinstance(value, kind):
            raise self.bad(path, _article(kind), json_kind(value))
        if nonempty and kind in (str, list) and not value:
            raise self.bad(path, f"a non-empty {_noun(kind)}", json_kind(value))
        return value

    def only(self, obj: dict[Any, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in obj:
            if key == "controls":
                raise self.bad(f"{where}controls", _NO_CONTROLS, "controls")
            if not isinstance(key, str) or key not in allowed:
                raise self.bad(f"{where}{key}", f"one of {list(allowed)}", "an unknown field")

    # The experiment.

    def fields(self) -> None:
        doc = self.doc
        self.only(doc, TOP_FIELDS, "")
        self.get(doc, "title", "", str, True)
        self.get(doc, "description", "", str, True)
        self.get(doc, "version", "", str, False)
        for i, tag in enumerate(self.get(doc, "tags", "", list, False, nonempty=False) or []):
            if not isinstance(tag, str) or not tag:
                raise self.bad(f"tags[{i}]", "a non-empty string", json_kind(tag))
        self.contributions(self.get(doc, "contributions", "", dict, False) or {})
        self.configuration = self.config(self.get(doc, "configuration", "", dict, False) or {})
        self.secrets = self.secret_scopes(self.get(doc, "secrets", "", dict, False) or {})
        for i, ext in enumerate(self.get(doc, "extensions", "", list, False, nonempty=False) or []):
            if not isinstance(ext, dict):
                raise self.bad(f"extensions[{i}]", "an object", json_kind(ext))
            self.get(ext, "name", f"extensions[{i}].", str, True)
        self.runtime(self.get(doc, "runtime", "", dict, True))
        hypothesis = self.get(doc, "steady-state-hypothesis", "", dict, True)
        self.only(hypothesis, ("title", "probes"), "steady-state-hypothesis.")
        self.get(hypothesis, "title", "steady-state-hypothesis.", str, True)
        hypothesis_probes = self.get(hypothesis, "probes", "steady-state-hypothesis.", list, True)
        method = self.get(doc, "method", "", list, True)
        rollbacks = self.get(doc, "rollbacks", "", list, True, nonempty=False)
        self.collect_names(
            [
                ("steady-state-hypothesis.probes", hypothesis_probes),
                ("method", method),
                ("rollbacks", rollbacks),
            ]
        )
        for i, probe in enumerate(hypothesis_probes):
            self.activity(probe, f"steady-state-hypothesis.probes[{i}]", "hypothesis")
        steps = [
            (f"method[{i}]", self.activity(a, f"method[{i}]", "method"))
            for i, a in enumerate(method)
        ]
        undo = [
            (f"rollbacks[{i}]", self.activity(a, f"rollbacks[{i}]", "rollback"))
            for i, a in enumerate(rollbacks)
        ]
        self.shape(steps, undo)

    def contributions(self, contributions: dict[Any, Any]) -> None:
        for key, value in contributions.items():
            if value not in ("high", "medium", "low", "none"):
                raise self.bad(
                    f"contributions.{key}",
                    "one of 'high', 'medium', 'low', 'none'",
                    json_kind(value),
                )

    def config(self, configuration: dict[Any, Any]) -> dict[str, Any]:
        for key, value in configuration.items():
            where = f"configuration.{key}"
            if not isinstance(key, str):
                raise self.bad(where, "a string key", json_kind(key))
            if isinstance(value, dict) and "type" in value:
                if value["type"] != "env":
                    raise self.bad(
                        f"{where}.type",
                        "'env': a dynamic value (a probe, an action) would run before this"
                        " validation could check it",
                        json_kind(value["type"]),
                    )
                self.only(value, ("type", "key", "default", "env_var_type"), f"{where}.")
                self.get(value, "key", f"{where}.", str, True)
                env_var_type = value.get("env_var_type")
                if not isinstance(env_var_type, str | None) or env_var_type not in ENV_TYPES:
                    raise self.bad(
                        f"{where}.env_var_type",
                        f"one of {[k for k in ENV_TYPES if k]}",
                        json_kind(env_var_type),
                    )
        return configuration

    def secret_scopes(self, secrets: dict[Any, Any]) -> dict[str, dict[str, Any]]:
        for scope, entries in secrets.items():
            if not isinstance(entries, dict):
                raise self.bad(f"secrets.{scope}", "an object of secrets", json_kind(entries))
            for name, secret in entries.items():
                where = f"secrets.{scope}.{name}"
                if isinstance(secret, str):
                    continue
                if not isinstance(secret, dict) or secret.get("type") not in ("env", "vault"):
                    raise self.bad(
                        where, "a string, or an object of type 'env' or 'vault'", json_kind(secret)
                    )
                if secret["type"] == "env":
                    self.get(secret, "key", f"{where}.", str, True)
                else:
                    self.get(secret, "path", f"{where}.", str, True)
        return secrets

    def runtime(self, runtime: dict[str, Any]) -> None:
        """chaostoolkit's strategies, as the harness needs them (chaos run reads them here)."""
        self.only(runtime, ("rollbacks", "hypothesis"), "runtime.")
        rollbacks = self.get(runtime, "rollbacks", "runtime.", dict, True)
        self.only(rollbacks, ("strategy",), "runtime.rollbacks.")
        if rollbacks.get("strategy") != "always":
            raise self.bad(
                "runtime.rollbacks.strategy",
                "'always': the rollback ends the run whatever stopped the method, and"
                " chaostoolkit's default skips rollbacks after an interruption or an unmet"
                " steady state",
                json_kind(rollbacks["strategy"]) if "strategy" in rollbacks else "missing",
            )
        hypothesis = self.get(runtime, "hypothesis", "runtime.", dict, False) or {}
        self.only(hypothesis, ("strategy", "frequency", "fail_fast"), "runtime.hypothesis.")
        if hypothesis.get("strategy", "default") not in ("default", "continuously"):
            raise self.bad(
                "runtime.hypothesis.strategy",
                "'default' or 'continuously': the verdict reads the steady state before and"
                " after the method",
                json_kind(hypothesis["strategy"]),
            )
        if "frequency" in hypothesis and not _positive(hypothesis["frequency"]):
            raise self.bad(
                "runtime.hypothesis.frequency",
                "seconds, a number > 0",
                json_kind(hypothesis["frequency"]),
            )
        self.get(hypothesis, "fail_fast", "runtime.hypothesis.", bool, False)

    # Activities.

    def collect_names(self, groups: list[tuple[str, list[Any]]]) -> None:
        """Every activity's name, once each (references resolve by name)."""
        for where, activities in groups:
            for i, activity in enumerate(activities):
                if not isinstance(activity, dict) or not isinstance(activity.get("name"), str):
                    continue
                name = activity["name"]
                if name in self.names:
                    raise self.bad(
                        f"{where}[{i}].name", "a name no other activity of the experiment has", name
                    )
                self.names[name] = activity

    def activity(self, activity: Any, where: str, role: str) -> dict[str, Any]:
        """Check one activity; return it (a reference: the activity it names)."""
        if not isinstance(activity, dict):
            raise self.bad(where, "an activity object", json_kind(activity))
        if "ref" in activity:
            return self.reference(activity, where, role)
        self.only(activity, ACTIVITY_FIELDS, f"{where}.")
        kind = self.get(activity, "type", f"{where}.", str, True)
        wanted = {"hypothesis": ("probe",), "rollback": ("action",)}.get(role, ("action", "probe"))
        if kind not in wanted:
            raise self.bad(
                f"{where}.type", " or ".join(repr(k) for k in wanted) + f" in the {role}", kind
            )
        self.get(activity, "name", f"{where}.", str, True)
        func_name = self.provider(activity, kind, role, where)
        self.tolerance(activity, kind, func_name, role, where)
        self.pauses(self.get(activity, "pauses", f"{where}.", dict, False), f"{where}.pauses")
        background = self.get(activity, "background", f"{where}.", bool, False)
        if background and func_name in PHASES:
            raise self.bad(
                f"{where}.background", "false: the phases of a run go one after another", True
            )
        if "timeout" in activity and not _positive(activity["timeout"]):
            raise self.bad(
                f"{where}.timeout", "seconds, a number > 0", json_kind(activity["timeout"])
            )
        return activity

    def reference(self, activity: dict[str, Any], where: str, role: str) -> dict[str, Any]:
        if role != "method":
            raise self.bad(
                f"{where}.ref", "an activity: references belong in the method", "a reference"
            )
        for key in activity:
            if key != "ref":
                raise self.bad(f"{where}.{key}", "nothing beside 'ref' in a reference", "set")
        ref = activity["ref"]
        if not isinstance(ref, str) or ref not in self.names:
            raise self.bad(
                f"{where}.ref",
                f"the name of an activity of this experiment: {sorted(self.names)}",
                ref,
            )
        return self.names[ref]

    def provider(self, activity: dict[str, Any], kind: str, role: str, at: str) -> str:
        """Check the activity's provider; return its function's name."""
        provider = self.get(activity, "provider", f"{at}.", dict, True)
        where = f"{at}.provider"
        self.only(provider, PROVIDER_FIELDS, f"{where}.")
        ptype = self.get(provider, "type", f"{where}.", str, True)
        if ptype != "python":
            raise self.bad(
                f"{where}.type", "'python': the harness's activities are python functions", ptype
            )
        module_name = self.get(provider, "module", f"{where}.", str, True)
        if module_name not in MODULES:
            raise self.bad(f"{where}.module", f"one of {sorted(MODULES)}", module_name)
        module = MODULES[module_name]
        func_name: str = self.get(provider, "func", f"{where}.", str, True)
        if func_name not in module.__all__:
            raise self.bad(f"{where}.func", f"one of {module.__all__} ({module_name})", func_name)
        own_kind = "probe" if module is probes else "action"
        if kind != own_kind:
            raise self.bad(f"{at}.type", f"'{own_kind}': {func_name} is one", kind)
        allowed = {"hypothesis": ("pipeline_whole",), "rollback": ("restore_pipeline",)}.get(role)
        if allowed is not None and func_name not in allowed:
            raise self.bad(f"{where}.func", f"one of {list(allowed)} in the {role}", func_name)
        for i, scope in enumerate(
            self.get(provider, "secrets", f"{where}.", list, False, nonempty=False) or []
        ):
            if not isinstance(scope, str) or scope not in self.secrets:
                raise self.bad(
                    f"{where}.secrets[{i}]",
                    f"a scope the experiment declares: {sorted(self.secrets)}",
                    json_kind(scope),
                )
        arguments = provider.get("arguments", {})
        if not isinstance(arguments, dict):
            raise self.bad(f"{where}.arguments", "an object", json_kind(arguments))
        self.arguments(getattr(module, func_name), arguments, f"{where}.arguments")
        return func_name

    def arguments(self, func: Callable[..., Any], arguments: dict[Any, Any], where: str) -> None:
        """The arguments against the function's signature and annotations."""
        params = inspect.signature(func).parameters
        hints = typing.get_type_hints(func)
        for name, value in arguments.items():
            path = f"{where}.{name}"
            if name not in params:
                known = (
                    f"one of {list(params)}"
                    if params
                    else f"no arguments: {func.__name__} takes none"
                )
                raise self.bad(path, known, "an unknown argument")
            actual = self.substituted(value, path)
            annotation = hints[name]
            if not _accepts(annotation, actual):
                raise self.bad(
                    path, f"{_describe(annotation)} ({func.__name__}'s {name})", _shown(actual)
                )
            self.meaning(func.__name__, name, actual, arguments, path)
        for name, param in params.items():
            if param.default is inspect.Parameter.empty and name not in arguments:
                raise self.bad(
                    f"{where}.{name}", f"present: {func.__name__} requires it", "missing"
                )

    def substituted(self, value: Any, where: str) -> Any:
        """The value the function will get: chaoslib replaces ${key} from the configuration
        (and secrets) when the run starts."""
        if not isinstance(value, str):
            return value
        for match in string.Template.pattern.finditer(value):
            key = match.group("named") or match.group("braced")
            if key is None:
                continue
            scopes = [self.configuration, *self.secrets.values()]
            if not any(key in scope for scope in scopes):
                raise self.bad(
                    where,
                    f"a ${{key}} the configuration or secrets declare ({key!r} is not)",
                    value,
                )
            if match.group(0) != value:
                continue  # inside a longer string: the result is a string
            found = next(scope[key] for scope in scopes if key in scope)
            if isinstance(found, dict) and found.get("type") == "env":
                env_var_type = found.get("env_var_type")  # secrets have none: strings
                kind = ENV_TYPES.get(env_var_type, str) if isinstance(env_var_type, str) else str
                return _FromEnvironment(kind, str(found.get("key")))
            if isinstance(found, dict) and found.get("type") == "vault":
                return _FromEnvironment(str, str(found.get("path")))
            return found
        return value

    def meaning(
        self, func: str, name: str, value: Any, arguments: dict[Any, Any], where: str
    ) -> None:
        """What a well-typed value must also be: an implemented mechanism, a timeout > 0."""
        if name == "timeout" and not isinstance(value, _FromEnvironment) and not _positive(value):
            raise self.bad(where, "seconds, a number > 0", json_kind(value))
        if name == "mechanism":
            if isinstance(value, _FromEnvironment):
                raise self.bad(
                    where,
                    "a mechanism id written in the file (or a configuration value that is):"
                    f" one from ${value.key} in the environment cannot be checked before the run",
                    "a value from the environment",
                )
            if value not in MECHANISMS:
                raise self.bad(where, f"one of the catalog's ids: {sorted(MECHANISMS)}", value)
            known = implemented()
            if value not in known:
                raise self.bad(where, f"an implemented mechanism: {sorted(known)}", value)
            control = arguments.get("negative_control", False)
            if func == "begin_mechanism" and control is True and _no_control(known[value]):
                raise self.bad(
                    where.rsplit(".", 1)[0] + ".negative_control",
                    f"false: {value} declares no negative control",
                    True,
                )

    def tolerance(
        self, activity: dict[str, Any], kind: str, func: str, role: str, where: str
    ) -> None:
        required = role == "hypothesis" or func == "mechanism_outcome"
        if "tolerance" not in activity:
            if required and kind == "probe":
                why = "chaostoolkit compares it" if role == "hypothesis" else "the harness reads it"
                raise self.bad(f"{where}.tolerance", f"present on this probe: {why}", "missing")
            return
        if kind != "probe":
            raise self.bad(
                f"{where}.tolerance", "no tolerance: only a probe has one", "a tolerance"
            )
        returns = typing.get_type_hints(getattr(probes, func))["return"]
        check_tolerance(activity["tolerance"], func, returns, self.source, f"{where}.tolerance")

    def pauses(self, pauses: dict[str, Any] | None, where: str) -> None:
        if pauses is None:
            return
        self.only(pauses, ("before", "after"), f"{where}.")
        for key, value in pauses.items():
            if isinstance(value, str) and string.Template.pattern.fullmatch(value):
                self.substituted(value, f"{where}.{key}")
                continue
            if not _number(value) or value < 0:
                raise self.bad(
                    f"{where}.{key}",
                    "seconds, a number >= 0, or a ${key} of the configuration",
                    json_kind(value),
                )

    # The method's shape.

    def shape(
        self, steps: list[tuple[str, dict[str, Any]]], undo: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """One run's phases, in order, for one mechanism; a rollback that ends the run."""
        phases = [(w, a) for w, a in steps if a["provider"]["func"] in PHASES]
        found = [a["provider"]["func"] for _, a in phases]
        if found != list(PHASES):
            raise self.bad(
                "method",
                "the phases of one mechanism run, once each and in this order: "
                + ", ".join(PHASES),
                ", ".join(found) or "none",
            )
        begin = phases[0][1]["provider"]["arguments"]
        mechanism_id = begin["mechanism"]
        for where, activity in phases[1:]:
            if activity["provider"]["arguments"]["mechanism"] != mechanism_id:
                raise self.bad(
                    f"{where}.provider.arguments.mechanism",
                    f"{mechanism_id!r}, the mechanism begin_mechanism began",
                    activity["provider"]["arguments"]["mechanism"],
                )
        if not any(a["provider"]["arguments"]["mechanism"] == mechanism_id for _, a in undo):
            raise self.bad(
                "rollbacks",
                f"a restore_pipeline of {mechanism_id!r}: it ends the run whatever stopped"
                " the method",
                "none",
            )
        control = begin.get("negative_control", False) is True
        tags = self.doc.get("tags") or []
        for i, tag in enumerate(tags):
            if tag.startswith("mechanism:") and tag != f"mechanism:{mechanism_id}":
                raise self.bad(
                    f"tags[{i}]", f"'mechanism:{mechanism_id}', the method's mechanism", tag
                )
        if tags and ("negative_control" in tags) != control:
            raise self.bad(
                "tags",
                ("a 'negative_control' tag" if control else "no 'negative_control' tag")
                + f": begin_mechanism's negative_control is {str(control).lower()}",
                tags,
            )


def _no_control(cls: type[MechanismTemplate]) -> bool:
    return cls.switch_off is MechanismTemplate.switch_off


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: Any) -> bool:
    return _number(value) and value > 0


_ARTICLES: dict[type, str] = {
    str: "a string",
    list: "a list",
    dict: "an object",
    bool: "true or false",
}


def _article(kind: type) -> str:
    return _ARTICLES.get(kind, f"a {kind.__name__}")


def _noun(kind: type) -> str:
    return "string" if kind is str else "list" if kind is list else kind.__name__


def _accepts(annotation: Any, value: Any) -> bool:
    """Whether a JSON value (or one read from the environment) fits the annotation."""
    if isinstance(value, _FromEnvironment):
        return _accepts_type(annotation, value.kind)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_accepts(a, value) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return _number(value)
    if annotation is str:
        return isinstance(value, str)
    raise TypeError(f"no rule for the annotation {annotation!r}")  # a unit test covers all


def _accepts_type(annotation: Any, kind: type) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_accepts_type(a, kind) for a in typing.get_args(annotation))
    return kind is annotation or (annotation is float and kind is int)


def _describe(annotation: Any) -> str:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(annotation))
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        type(None): "null",
    }.get(annotation, repr(annotation))


def _shown(value: Any) -> str:
    if isinstance(value, _FromEnvironment):
        return f"a {value.kind.__name__} from ${value.key} in the environment"
    return json_kind(value)


def check_document(source: str, doc: dict[str, Any]) -> None:
    """Check a parsed experiment; InvalidInput at the first problem."""
    _Experiment(source, doc).fields()
