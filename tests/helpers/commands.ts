/**
 * Whether a program the tests use is installed.
 *
 * @example
 * ```ts ignore
 * Deno.test({ name: "needs ffmpeg", ignore: !await hasCommand("ffmpeg", ["-version"]), fn() {} });
 * ```
 * @module
 */

/** Whether `command args` runs and succeeds (its output is discarded). */
export async function hasCommand(
  command: string,
  args: string[] = ["--version"],
): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}
