#!/bin/bash
# The deletion loop of the seed walkthrough's registry-images-clean.sh (images_rm), ported
# line for line so the benchmark can time it against the same registry: per image, awk x4 to
# split the reference, curl tags/list | jq, the storage path from the registry container's
# mounts, ls of the tag's index directory, curl DELETE by digest, curl tags/list | jq again.
#
# One change: there is no Docker engine here, so `docker inspect registry` is replaced by
# `cat "$SEED_INSPECT_JSON"` (a file with the same [{"Mounts": [...]}] shape), still piped
# through jq. `docker inspect` is slower than cat, so this port is, if anything, faster than
# the original.
#
# Reads registry-images-clean.txt in the current directory, like the original.

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

       source_data=`cat "$SEED_INSPECT_JSON" | jq -r '.[0].Mounts[] | select(.Type == "bind") | .Source'`
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
