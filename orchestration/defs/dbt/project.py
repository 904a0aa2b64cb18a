"""The one cached dbt project. Its manifest is prepared at install time (`make install`
runs `dbt parse`) and by `dagster dev`; it is never parsed on import in production."""

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt"
#: dbt is installed beside this interpreter; `dagster dev` looks for it on PATH.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

if shutil.which("dbt") is None and DBT_EXECUTABLE.exists():
    os.environ["PATH"] = f"{DBT_EXECUTABLE.parent}{os.pathsep}{os.environ.get('PATH', '')}"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
