"""Run the aggregation pipeline on Spark (``paycascade run --engine spark``).

Ingestion and validation stay on the embedded DuckDB database (they report problems by file,
row and column).  The validated staging tables are then written to Parquet (streamed by
DuckDB, never through Python) and registered in Spark, and the very same Ibis expressions of
:mod:`paycascade.pipelines.aggregate` run on Ibis' PySpark backend.  Only per-physician
aggregates come back.

Spark runs in local mode by default (``local[2]``); set ``PAYCASCADE_SPARK_MASTER`` (for
example ``spark://host:7077`` or ``yarn``) to use a cluster, and ``PAYCASCADE_SPARK_CONF`` to
a ``key=value;key=value`` list of extra Spark settings.  PySpark and Java 17+ are needed:
``pip install 'paycascade[spark]'``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from paycascade.pipelines.duck import q


def _session() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "the Spark engine needs PySpark and Java 17+: pip install 'paycascade[spark]'"
        ) from exc
    builder = (
        SparkSession.builder.appName("paycascade")
        .master(os.environ.get("PAYCASCADE_SPARK_MASTER", "local[2]"))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
    )
    for item in filter(None, os.environ.get("PAYCASCADE_SPARK_CONF", "").split(";")):
        key, _, value = item.partition("=")
        builder = builder.config(key.strip(), value.strip())
    return builder.getOrCreate()


def spark_backend(con: duckdb.DuckDBPyConnection, workdir: Path) -> Any:
    """An Ibis PySpark backend holding the staged tables of ``con`` (as Parquet in workdir)."""
    import ibis

    session = _session()
    workdir.mkdir(parents=True, exist_ok=True)
    names = [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables "
            "where table_name like 'stg\\_%' escape '\\' or table_name = 'ref_pfs' order by 1"
        ).fetchall()
    ]
    for name in names:
        path = workdir / f"{name}.parquet"
        con.execute(f"COPY (SELECT * FROM {q(name)}) TO '{path}' (FORMAT parquet)")
        session.read.parquet(str(path)).createOrReplaceTempView(name)
    return ibis.pyspark.connect(session)
