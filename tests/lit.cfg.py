# lit configuration for Anvil's IR and tool tests (tests/dialect, tests/tools).
import os
import lit.formats

config.name = "Anvil"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.anvil_tools_dir, "..", "tests")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "unit", "e2e", "Inputs"]

config.environment["PATH"] = os.pathsep.join(
    [config.anvil_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%python", config.python))
config.substitutions.append(("%model_link_flags", config.model_link_flags))
config.substitutions.append(("%examples", os.path.join(config.anvil_src_root, "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "tools", "Inputs")))
