#!/bin/bash
# The deletion loop of the seed walkthrough's registry-images-clean.sh (images_rm), ported
# line for line so the benchmark can time it against the same registry: per image, awk x4 to
# split the reference, curl tags/list | jq, the storage path from the registry container's
# mounts (docker inspect | jq), ls of the tag's index directory, curl DELETE by digest, curl
# tags/list | jq again.
#
# The container is the one the benchmark creates with the registry's storage bind-mounted
# (SEED_CONTAINER; the original's is named `registry`). Without a Docker engine the benchmark
# sets SEED_INSPECT_JSON instead, and `docker inspect` becomes `cat` of a file with the same
# [{"Mounts": [...]}] shape: faster than the original, and reported as such.
#
# Reads registry-images-clean.txt in the current directory, like the original.

inspect_registry() {
    if [ -n "${SEED_INSPECT_JSON:-}" ]; then cat "$SEED_INSPECT_JSON"; else docker inspect "${SEED_CONTAINER:-registry}"; fi
}

images_rm() {

while IFS= read -r line
do
    image_repo=$(echo "$line" | awk -F '/' '{print $1}')

    image_project=$(echo "$line" | awk -F '/' '{ if (NF > 2) print $(NF-1) "/"; else print "" }')


    image_name=$(echo "$line" | awk -F '/' '{print $NF}' | awk -F ':' '{print $1}')

    image_tag=$(echo "$line" | awk -F '/' '{print $NF}' | awk -F ':' '{print $2}')


    response=$(curl -s "http://${image_repo}/v2/${image_project}${image_name}/tags/list")
    if echo "$response" | jq -e ".tags | index(\"${image_tag}\")" > /dev/null; then
       echo "镜像 ${image_project}${image_name}:${image_tag} 存在，准备删除..."

       source_data=`inspect_registry | jq -r '.[0].Mounts[] | select(.Type == "bind") | .Source'`
       MANIFEST_DIGEST=`ls ${source_data}/docker/registry/v2/repositories/${image_project}${image_name}/_manifests/tags/${image_tag}/index/sha256/`

       curl -s -I -X DELETE  "http://${image_repo}/v2/${image_project}${image_name}/manifests/sha256:${MANIFEST_DIGEST}" 2>&1 > /dev/null


      response=$(curl -s "http://${image_repo}/v2/${image_project}${image_name}/tags/list")
      if ! echo "$response" | jq -e '.tags | length > 0' > /dev/null; then
         rm -rf ${source_data}/docker/registry/v2/repositories/${image_project}${image_name}
      fi
    else
       echo "镜像 ${image_repo}/${image_project}${image_name}:${image_tag} 不存在。"
fi


done < registry-images-clean.txt

}

images_rm
