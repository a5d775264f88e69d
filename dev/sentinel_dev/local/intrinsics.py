"""CloudFormation intrinsic functions, resolved against the resources created so far."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from llmops_sentinel.errors import TemplateError

NO_VALUE = object()  # AWS::NoValue: the key disappears
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")

RefResolver = Callable[[str], Any]
AttResolver = Callable[[str, str], Any]


def references(node: Any) -> set[str]:
    """Logical ids (and parameter names) a template fragment refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                local = set(value[1]) if isinstance(value, list) and len(value) > 1 else set()
                for name in _SUB_VARIABLE.findall(text):
                    head = name.split(".", 1)[0]
                    if head not in local:
                        found.add(head)
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


class Resolver:
    """Evaluates ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
    ``Fn::If``, ``Fn::Equals`` and ``Fn::Not``. Anything else is a :class:`TemplateError`: better to stop than to
    run a template we read wrongly."""

    def __init__(self, ref: RefResolver, getatt: AttResolver, conditions: Mapping[str, bool]) -> None:
        self._ref = ref
        self._getatt = getatt
        self._conditions = conditions

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            handler = self._functions().get(key)
            if handler is not None:
                return handler(value)
            if key.startswith("Fn::"):
                raise TemplateError(f"intrinsic {key} is not supported by the local cloud")
        out = {}
        for key, value in node.items():
            resolved = self.resolve(value)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._fn_ref,
            "Fn::GetAtt": self._fn_getatt,
            "Fn::Sub": self._fn_sub,
            "Fn::Join": self._fn_join,
            "Fn::Select": self._fn_select,
            "Fn::Split": self._fn_split,
            "Fn::If": self._fn_if,
            "Fn::Equals": self._fn_equals,
            "Fn::Not": self._fn_not,
            "Condition": lambda name: self._conditions[name],
        }

    def _fn_ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        return self._ref(name)

    def _fn_getatt(self, value: Any) -> Any:
        logical_id, attribute = value if isinstance(value, list) else str(value).split(".", 1)
        return self._getatt(logical_id, self.resolve(attribute))

    def _fn_sub(self, value: Any) -> str:
        text, local = (value[0], self.resolve(value[1])) if isinstance(value, list) else (value, {})

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self._getatt(logical_id, attribute))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, str(text)).replace("${!", "${")

    def _fn_join(self, value: list[Any]) -> str:
        delimiter, items = value
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _fn_select(self, value: list[Any]) -> Any:
        index, items = value
        return self.resolve(items)[int(self.resolve(index))]

    def _fn_split(self, value: list[Any]) -> list[str]:
        delimiter, text = value
        return str(self.resolve(text)).split(str(delimiter))

    def _fn_if(self, value: list[Any]) -> Any:
        name, when_true, when_false = value
        return self.resolve(when_true if self._conditions[name] else when_false)

    def _fn_not(self, value: list[Any]) -> bool:
        (condition,) = value
        return not bool(self.resolve(condition))

    def _fn_equals(self, value: list[Any]) -> bool:
        left, right = (self.resolve(item) for item in value)
        return bool(str(left) == str(right))
