# shequ — 社区信息化培训测评套件. `make help` lists the targets.
# Every target creates .venv from pyproject.toml when it is missing or older.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SHEQU  := $(VENV)/bin/shequ
STAMP  := $(VENV)/.installed
LESSONS := $(wildcard courses/*/[0-9][0-9]-*.ipynb)
ANALYTICS := $(wildcard analytics/*.ipynb)
export PYTHONDONTWRITEBYTECODE := 1
# nbgrader runs `alembic` and `jupyter` from PATH
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.DEFAULT_GOAL := help

.PHONY: help install system-deps demo test test-fast test-one lab hub hub-stop course roster data data-check bank-check report bench clean

help: ## 列出所有目标 (list every target)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## 创建 .venv 并安装依赖 (create .venv, install dependencies)

system-deps: ## 安装浏览器测试与数据库测试需要的系统包（Debian：chromium、中文字体、PostgreSQL）
	@bash .ci/system-deps

demo: $(STAMP) ## 演示：组卷→发布→模拟作答→nbgrader 评分→报告 build/report/index.html
	$(SHEQU) demo

test: $(STAMP) system-deps ## 运行全部测试：单元测试、端到端、讲义与分析笔记本 (nbval-lax)
	$(PY) -m pytest --nbval-lax --durations=15 tests $(ANALYTICS) $(LESSONS)

test-fast: $(STAMP) ## 快速测试：不启动 nbgrader、内核、服务器和浏览器的测试（约 1 分钟）
	$(PY) -m pytest -m "not slow" -n 2 --dist loadfile tests

test-one: $(STAMP) ## 运行一个测试，如 make test-one T=tests/bank/test_bank_check.py::test_the_shipped_bank_passes
	$(PY) -m pytest -x "$(T)"

lab: $(STAMP) ## 启动 JupyterLab（含 nbgrader 作业列表与阅卷 formgrader；交换目录 grading/exchange/）
	$(SHEQU) lab

hub: $(STAMP) system-deps ## 区培训平台：由花名册建立账号（初始密码按街道写成表格），启动 JupyterHub（需 root；Ctrl+C 停止）
	$(SHEQU) hub users sync
	$(SHEQU) hub start

hub-stop: $(STAMP) ## 停止区培训平台
	$(SHEQU) hub stop

course: $(STAMP) ## 把课程练习写成 nbgrader 源文件与清单（shequ course build）
	$(SHEQU) course build

roster: $(STAMP) ## 把 datasets/staff.csv 同步为成绩库的学员名单（shequ roster sync）
	$(SHEQU) roster sync

data: $(STAMP) ## 用固定种子重新生成 datasets/ 下的合成数据
	$(SHEQU) data generate

data-check: $(STAMP) ## 检查已提交的数据与生成器是否一致
	$(SHEQU) data generate --check

bank-check: $(STAMP) ## 检查题库格式与内容
	$(SHEQU) bank check

report: $(STAMP) ## 由结果表重新生成报告
	$(SHEQU) report

bench: $(STAMP) ## 运行基准测试（不是测试，打印耗时与倍数）
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean: ## 删除生成物（build/ 和 grading/ 下的构建产物，保留 .venv 和区培训平台的账号与数据 build/hub/）
	[ ! -d build ] || find build -mindepth 1 -maxdepth 1 ! -name hub -exec rm -rf {} +
	rm -rf grading/source grading/release grading/submitted grading/autograded \
	       grading/feedback grading/feedback-offline grading/exchange grading/manifests grading/gradebook.db* \
	       grading/backups grading/logs grading/grade-state.json grading/submitted-superseded assignments \
	       grading/hub.json
