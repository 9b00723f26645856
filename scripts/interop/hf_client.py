"""Python's huggingface_hub, driven by scripts/test-interop.ts.

Each call runs one step and prints one JSON line. The environment says where
(HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE), as a user would set it.
Usage: python3 hf_client.py '<json step>'
"""

import json
import os
import sys
import warnings


def main() -> None:
    step = json.loads(sys.argv[1])
    kind = step["kind"]

    if kind == "version":
        import huggingface_hub
        import filelock

        print(json.dumps({"huggingface_hub": huggingface_hub.__version__, "filelock": filelock.__version__, "python": sys.version.split()[0]}))
        return

    if kind == "lock-probe":
        # Python's own filelock on a file this project holds an OS lock on.
        import filelock

        lock = filelock.FileLock(step["path"], timeout=step.get("timeout", 0.3))
        try:
            lock.acquire()
        except filelock.Timeout:
            print(json.dumps({"acquired": False}))
            return
        lock.release()
        print(json.dumps({"acquired": True}))
        return

    from huggingface_hub import HfApi, hf_hub_download, scan_cache_dir, snapshot_download, try_to_load_from_cache
    from huggingface_hub.utils import EntryNotFoundError

    api = HfApi()

    if kind == "download":
        path = hf_hub_download(step["repo"], step["file"], revision=step.get("revision"))
        print(json.dumps({"path": path, "real": os.path.realpath(path)}))
    elif kind == "snapshot":
        path = snapshot_download(step["repo"], revision=step.get("revision"), allow_patterns=step.get("allow"))
        print(json.dumps({"path": path}))
    elif kind == "missing":
        try:
            hf_hub_download(step["repo"], step["file"], revision=step.get("revision"))
            print(json.dumps({"error": None}))
        except EntryNotFoundError as error:
            print(json.dumps({"error": type(error).__name__}))
    elif kind == "cached-missing":
        # What an offline lookup of an optional file answers: the .no_exist marker.
        from huggingface_hub.file_download import _CACHED_NO_EXIST

        found = try_to_load_from_cache(step["repo"], step["file"], revision=step.get("revision"))
        print(json.dumps({"noExist": found is _CACHED_NO_EXIST, "path": found if isinstance(found, str) else None}))
    elif kind == "info-blobs":
        info = api.model_info(step["repo"], files_metadata=True)
        print(json.dumps({s.rfilename: {"size": s.size, "lfs": s.lfs.sha256 if s.lfs else None, "blob": s.blob_id} for s in info.siblings}))
    elif kind == "create-repo":
        urls = [str(api.create_repo(step["repo"], exist_ok=True, private=step.get("private", False))) for _ in range(2)]
        print(json.dumps({"urls": urls}))
    elif kind == "upload":
        repo = step["repo"]
        readme = "---\nlicense: apache-2.0\ntags:\n- modular-diffusers\n---\n# A card\n"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=repo)
            api.upload_folder(folder_path=step["folder"], repo_id=repo, commit_message="a folder with a card")
            from huggingface_hub import CommitOperationAdd

            pr = api.create_commit(repo_id=repo, operations=[CommitOperationAdd("notes.md", b"# notes\n")], commit_message="a PR", create_pr=True)
        files = sorted(api.list_repo_files(repo))
        print(json.dumps({"files": files, "pr": pr.pr_url}))
    elif kind == "scan":
        info = scan_cache_dir(step.get("cache"))
        print(
            json.dumps(
                {
                    "warnings": [str(w) for w in info.warnings],
                    "repos": sorted(r.repo_id for r in info.repos),
                    "revisions": {r.repo_id: sorted(rev.commit_hash for rev in r.revisions) for r in info.repos},
                }
            )
        )
    else:
        raise SystemExit(f"unknown step {kind}")


if __name__ == "__main__":
    main()
