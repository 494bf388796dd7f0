import { defineConfig } from "vitest/config";

/** The container image test (`npm run test:container`): podman builds and runs docker/Dockerfile. */
export default defineConfig({
  test: {
    include: ["test/container/**/*.test.ts"],
    globalSetup: ["test/container/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 20 * 60_000,
    pool: "forks",
    // Both files build images: one at a time on a small machine.
    fileParallelism: false,
  },
});
