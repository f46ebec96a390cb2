"""Company knowledge base: bundled profiles in a real chroma collection, looked up by
exact domain, then fuzzy name (rapidfuzz), then vector similarity.

Chroma's default embedding downloads a model at run time, which fails offline; the
collection uses `HashingNgramEmbedding`, a deterministic character n-gram hashing embedding
registered with chroma (good for company names, no model files, no network).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function
from rapidfuzz import fuzz, process

from leadflow.tools.crm import name_key

COLLECTION_PREFIX = "company_profiles"


@register_embedding_function
class HashingNgramEmbedding(EmbeddingFunction[Documents]):
    """Character n-grams (and whole words) hashed into a fixed-size, L2-normalised vector."""

    def __init__(self, dim: int = 512, ngram_min: int = 2, ngram_max: int = 4) -> None:
        self.dim = dim
        self.ngram_min = ngram_min
        self.ngram_max = ngram_max

    def __call__(self, input: Documents) -> Embeddings:
        return [self._embed(text) for text in input]

    def _embed(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        norm = re.sub(r"[^\w]+", " ", text.lower()).strip()
        for word in norm.split():
            padded = f" {word} "
            vector[zlib.crc32(b"w:" + word.encode()) % self.dim] += 2.0
            for n in range(self.ngram_min, self.ngram_max + 1):
                for i in range(len(padded) - n + 1):
                    vector[zlib.crc32(padded[i : i + n].encode()) % self.dim] += 1.0
        length = float(np.linalg.norm(vector))
        return vector / length if length else vector

    @staticmethod
    def name() -> str:
        return "leadflow-hashing-ngram"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim, "ngram_min": self.ngram_min, "ngram_max": self.ngram_max}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingNgramEmbedding:
        return HashingNgramEmbedding(**config)


@dataclass(frozen=True)
class KbMatch:
    profile: dict[str, Any]
    method: str  # domain | fuzzy_name | semantic
    confidence: float  # 0..1


@cache
def bundled_profiles() -> tuple[dict[str, Any], ...]:
    text = resources.files("leadflow.data").joinpath("companies.jsonl").read_text("utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


class KnowledgeBase:
    """Lookup over company profiles; the chroma collection is built once per process."""

    def __init__(
        self,
        profiles: tuple[dict[str, Any], ...] | None = None,
        persist_dir: Path | None = None,
        fuzzy_cutoff: float = 90.0,
        semantic_max_distance: float = 0.22,
    ) -> None:
        self.profiles = profiles if profiles is not None else bundled_profiles()
        self.fuzzy_cutoff = fuzzy_cutoff
        self.semantic_max_distance = semantic_max_distance
        self._by_domain = {p["domain"].lower(): p for p in self.profiles}
        self._names: list[str] = []
        self._name_owner: list[dict[str, Any]] = []
        for profile in self.profiles:
            for alias in (profile["name"], *profile.get("aliases", [])):
                key = name_key(alias)
                if key:
                    self._names.append(key)
                    self._name_owner.append(profile)
        client = (
            chromadb.PersistentClient(path=str(persist_dir)) if persist_dir
            else chromadb.EphemeralClient()
        )
        # One collection per profile set: chroma's in-memory store is shared by the process.
        digest = hashlib.sha256(json.dumps(self.profiles, sort_keys=True).encode()).hexdigest()
        self.collection = client.get_or_create_collection(
            f"{COLLECTION_PREFIX}_{digest[:16]}",
            embedding_function=HashingNgramEmbedding(),  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine"},
        )
        if self.collection.count() != len(self.profiles):
            self._index()

    def _index(self) -> None:
        ids = [p["domain"].lower() for p in self.profiles]
        docs = [" ".join([p["name"], *p.get("aliases", []), p["domain"].split(".")[0]])
                for p in self.profiles]
        metas = [{"name": p["name"], "country": p.get("country") or "",
                  "industry": p.get("industry") or ""} for p in self.profiles]
        for start in range(0, len(ids), 500):
            self.collection.upsert(ids=ids[start:start + 500], documents=docs[start:start + 500],
                                   metadatas=metas[start:start + 500])  # type: ignore[arg-type]

    def lookup(self, name: str | None, domain: str | None,
               country: str | None = None) -> KbMatch | None:
        if domain:
            host = domain.lower()
            parts = host.split(".")
            for i in range(len(parts) - 1):
                found = self._by_domain.get(".".join(parts[i:]))
                if found:
                    return KbMatch(found, "domain", 1.0)
        key = name_key(name or "")
        if not key:
            return None
        best = process.extractOne(key, self._names, scorer=fuzz.token_sort_ratio,
                                  score_cutoff=self.fuzzy_cutoff)
        if best is not None:
            profile = self._name_owner[best[2]]
            if not (country and profile.get("country") and profile["country"] != country):
                return KbMatch(profile, "fuzzy_name", round(best[1] / 100, 3))
        result = self.collection.query(query_texts=[name or key], n_results=3)
        for doc_id, distance in zip(result["ids"][0], (result["distances"] or [[]])[0],
                                    strict=False):
            profile = self._by_domain[doc_id]
            if distance > self.semantic_max_distance:
                break
            if country and profile.get("country") and profile["country"] != country:
                continue
            return KbMatch(profile, "semantic", round(1 - float(distance), 3))
        return None
