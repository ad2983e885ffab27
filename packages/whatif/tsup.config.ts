import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup.config.ts";

export default defineConfig(packageConfig());
