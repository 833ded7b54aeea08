/**
 * Makes sure the real parts the tests use are installed: ffmpeg (media), redis-server (the
 * registry), Chromium (the player). On Debian or Ubuntu it installs what is missing with apt-get
 * (as root, or with passwordless sudo); elsewhere it says what to install. `deno task test` runs it
 * first.
 *
 * @module
 */

/** A tool the tests need, and the Debian package that has it. */
interface Requirement {
  command: string;
  path?: string;
  packageName: string;
}

const REQUIREMENTS: Requirement[] = [
  { command: "ffmpeg", packageName: "ffmpeg" },
  { command: "ffprobe", packageName: "ffmpeg" },
  { command: "redis-server", packageName: "redis-server" },
  { command: "chromium", path: "/usr/bin/chromium", packageName: "chromium" },
];

async function found(requirement: Requirement): Promise<boolean> {
  if (requirement.path) {
    try {
      return (await Deno.stat(requirement.path)).isFile;
    } catch {
      return false;
    }
  }
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${requirement.command}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** Runs `apt-get <args>` as root (directly, or with passwordless sudo). */
async function aptGet(args: string[]): Promise<boolean> {
  const root = Deno.uid?.() === 0;
  const [command, ...rest] = root ? ["apt-get", ...args] : ["sudo", "-n", "apt-get", ...args];
  console.error(`$ ${command} ${rest.join(" ")}`);
  try {
    const { success } = await new Deno.Command(command, {
      args: rest,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return success;
  } catch {
    return false;
  }
}

const missing: Requirement[] = [];
for (const requirement of REQUIREMENTS) if (!await found(requirement)) missing.push(requirement);

if (missing.length > 0) {
  const packages = [...new Set(missing.map((requirement) => requirement.packageName))];
  if (await found({ command: "apt-get", packageName: "" })) {
    const install = ["install", "-y", "--no-install-recommends", ...packages];
    if (!await aptGet(install)) await aptGet(["update"]) && await aptGet(install);
  }
  const still = [];
  for (const requirement of missing) {
    if (!await found(requirement)) still.push(requirement.packageName);
  }
  if (still.length > 0) {
    console.error(
      `The tests need ${[...new Set(still)].join(", ")}: install them ` +
        `(Debian/Ubuntu: apt-get install -y ${packages.join(" ")}) and run the tests again.`,
    );
    Deno.exit(1);
  }
}
